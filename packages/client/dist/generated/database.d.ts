export type Json = string | number | boolean | null | {
    [key: string]: Json | undefined;
} | Json[];
export type Database = {
    "public": {
        Tables: {
            "app_settings": {
                Row: {
                    "description": string | null;
                    "key": string;
                    "updated_at": string;
                    "value": NonNullable<Json>;
                };
                ComputedFields: never;
                Insert: {
                    "description"?: string | null;
                    "key": string;
                    "updated_at"?: string;
                    "value": NonNullable<Json>;
                };
                Update: {
                    "description"?: string | null;
                    "key"?: string;
                    "updated_at"?: string;
                    "value"?: NonNullable<Json>;
                };
                Relationships: [];
            };
            "conversations": {
                Row: {
                    "active_leaf_id": string | null;
                    "archived_at": string | null;
                    "cache_write_tokens": number;
                    "cached_read_tokens": number;
                    "cost_micro_usd": number;
                    "created_at": string;
                    "deleted_at": string | null;
                    "id": string;
                    "input_tokens": number;
                    "last_message_at": string | null;
                    "model": string;
                    "output_tokens": number;
                    "pinned": boolean;
                    "pinned_at": string | null;
                    "reasoning_tokens": number;
                    "summary": string | null;
                    "summary_through_id": string | null;
                    "system_prompt": string | null;
                    "title": string | null;
                    "title_generated": boolean;
                    "updated_at": string;
                    "user_id": string;
                };
                ComputedFields: never;
                Insert: {
                    "active_leaf_id"?: string | null;
                    "archived_at"?: string | null;
                    "cache_write_tokens"?: number;
                    "cached_read_tokens"?: number;
                    "cost_micro_usd"?: number;
                    "created_at"?: string;
                    "deleted_at"?: string | null;
                    "id"?: string;
                    "input_tokens"?: number;
                    "last_message_at"?: string | null;
                    "model": string;
                    "output_tokens"?: number;
                    "pinned"?: boolean;
                    "pinned_at"?: string | null;
                    "reasoning_tokens"?: number;
                    "summary"?: string | null;
                    "summary_through_id"?: string | null;
                    "system_prompt"?: string | null;
                    "title"?: string | null;
                    "title_generated"?: boolean;
                    "updated_at"?: string;
                    "user_id"?: string;
                };
                Update: {
                    "active_leaf_id"?: string | null;
                    "archived_at"?: string | null;
                    "cache_write_tokens"?: number;
                    "cached_read_tokens"?: number;
                    "cost_micro_usd"?: number;
                    "created_at"?: string;
                    "deleted_at"?: string | null;
                    "id"?: string;
                    "input_tokens"?: number;
                    "last_message_at"?: string | null;
                    "model"?: string;
                    "output_tokens"?: number;
                    "pinned"?: boolean;
                    "pinned_at"?: string | null;
                    "reasoning_tokens"?: number;
                    "summary"?: string | null;
                    "summary_through_id"?: string | null;
                    "system_prompt"?: string | null;
                    "title"?: string | null;
                    "title_generated"?: boolean;
                    "updated_at"?: string;
                    "user_id"?: string;
                };
                Relationships: [
                    {
                        foreignKeyName: "conversations_active_leaf_fk";
                        columns: ["active_leaf_id"];
                        isOneToOne: false;
                        referencedRelation: "messages";
                        referencedColumns: ["id"];
                    },
                    {
                        foreignKeyName: "conversations_active_leaf_fk";
                        columns: ["active_leaf_id"];
                        isOneToOne: false;
                        referencedRelation: "tool_usage";
                        referencedColumns: ["message_id"];
                    },
                    {
                        foreignKeyName: "conversations_summary_through_fk";
                        columns: ["summary_through_id"];
                        isOneToOne: false;
                        referencedRelation: "messages";
                        referencedColumns: ["id"];
                    },
                    {
                        foreignKeyName: "conversations_summary_through_fk";
                        columns: ["summary_through_id"];
                        isOneToOne: false;
                        referencedRelation: "tool_usage";
                        referencedColumns: ["message_id"];
                    }
                ];
            };
            "document_grants": {
                Row: {
                    "document_id": string;
                    "granted_at": string;
                    "user_id": string;
                };
                ComputedFields: never;
                Insert: {
                    "document_id": string;
                    "granted_at"?: string;
                    "user_id": string;
                };
                Update: {
                    "document_id"?: string;
                    "granted_at"?: string;
                    "user_id"?: string;
                };
                Relationships: [
                    {
                        foreignKeyName: "document_grants_document_id_fkey";
                        columns: ["document_id"];
                        isOneToOne: false;
                        referencedRelation: "documents";
                        referencedColumns: ["id"];
                    }
                ];
            };
            "documents": {
                Row: {
                    "chunk_count": number;
                    "content": string;
                    "content_hash": string | null;
                    "created_at": string;
                    "error": string | null;
                    "id": string;
                    "indexed_hash": string | null;
                    "kind": string;
                    "metadata": NonNullable<Json>;
                    "mime_type": string | null;
                    "occurred_at": string | null;
                    "owner_id": string;
                    "size_bytes": number | null;
                    "source": string | null;
                    "source_id": string | null;
                    "status": string;
                    "storage_path": string | null;
                    "title": string;
                    "updated_at": string;
                    "visibility": string;
                };
                ComputedFields: never;
                Insert: {
                    "chunk_count"?: number;
                    "content"?: string;
                    "content_hash"?: string | null;
                    "created_at"?: string;
                    "error"?: string | null;
                    "id"?: string;
                    "indexed_hash"?: string | null;
                    "kind": string;
                    "metadata"?: NonNullable<Json>;
                    "mime_type"?: string | null;
                    "occurred_at"?: string | null;
                    "owner_id"?: string;
                    "size_bytes"?: number | null;
                    "source"?: string | null;
                    "source_id"?: string | null;
                    "status"?: string;
                    "storage_path"?: string | null;
                    "title": string;
                    "updated_at"?: string;
                    "visibility"?: string;
                };
                Update: {
                    "chunk_count"?: number;
                    "content"?: string;
                    "content_hash"?: string | null;
                    "created_at"?: string;
                    "error"?: string | null;
                    "id"?: string;
                    "indexed_hash"?: string | null;
                    "kind"?: string;
                    "metadata"?: NonNullable<Json>;
                    "mime_type"?: string | null;
                    "occurred_at"?: string | null;
                    "owner_id"?: string;
                    "size_bytes"?: number | null;
                    "source"?: string | null;
                    "source_id"?: string | null;
                    "status"?: string;
                    "storage_path"?: string | null;
                    "title"?: string;
                    "updated_at"?: string;
                    "visibility"?: string;
                };
                Relationships: [];
            };
            "ingestion_jobs": {
                Row: {
                    "attempts": number;
                    "created_at": string;
                    "dispatched_at": string | null;
                    "document_id": string;
                    "last_error": string | null;
                    "locked_at": string | null;
                    "next_run_at": string;
                    "owner_id": string;
                    "status": string;
                    "updated_at": string;
                };
                ComputedFields: never;
                Insert: {
                    "attempts"?: number;
                    "created_at"?: string;
                    "dispatched_at"?: string | null;
                    "document_id": string;
                    "last_error"?: string | null;
                    "locked_at"?: string | null;
                    "next_run_at"?: string;
                    "owner_id": string;
                    "status"?: string;
                    "updated_at"?: string;
                };
                Update: {
                    "attempts"?: number;
                    "created_at"?: string;
                    "dispatched_at"?: string | null;
                    "document_id"?: string;
                    "last_error"?: string | null;
                    "locked_at"?: string | null;
                    "next_run_at"?: string;
                    "owner_id"?: string;
                    "status"?: string;
                    "updated_at"?: string;
                };
                Relationships: [
                    {
                        foreignKeyName: "ingestion_jobs_document_id_fkey";
                        columns: ["document_id"];
                        isOneToOne: true;
                        referencedRelation: "documents";
                        referencedColumns: ["id"];
                    }
                ];
            };
            "job_runs": {
                Row: {
                    "batches": number;
                    "duration_ms": number | null;
                    "error": string | null;
                    "finished_at": string | null;
                    "id": number;
                    "job": string;
                    "longest_batch_ms": number | null;
                    "rows_affected": number;
                    "run_id": string;
                    "started_at": string;
                    "status": string;
                    "step": string;
                };
                ComputedFields: never;
                Insert: {
                    "batches"?: number;
                    "duration_ms"?: number | null;
                    "error"?: string | null;
                    "finished_at"?: string | null;
                    "id"?: never;
                    "job": string;
                    "longest_batch_ms"?: number | null;
                    "rows_affected"?: number;
                    "run_id": string;
                    "started_at"?: string;
                    "status"?: string;
                    "step": string;
                };
                Update: {
                    "batches"?: number;
                    "duration_ms"?: number | null;
                    "error"?: string | null;
                    "finished_at"?: string | null;
                    "id"?: never;
                    "job"?: string;
                    "longest_batch_ms"?: number | null;
                    "rows_affected"?: number;
                    "run_id"?: string;
                    "started_at"?: string;
                    "status"?: string;
                    "step"?: string;
                };
                Relationships: [];
            };
            "messages": {
                Row: {
                    "cache_write_tokens": number;
                    "cached_read_tokens": number;
                    "client_message_id": string | null;
                    "completed_at": string | null;
                    "content": string;
                    "conversation_id": string;
                    "cost_micro_usd": number;
                    "created_at": string;
                    "error_details": Json | null;
                    "error_type": string | null;
                    "finish_reason": string | null;
                    "id": string;
                    "input_tokens": number;
                    "latency_ms": number | null;
                    "model": string | null;
                    "output_tokens": number;
                    "parent_id": string | null;
                    "parts": NonNullable<Json>;
                    "provider": string | null;
                    "provider_model": string | null;
                    "reasoning_tokens": number;
                    "role": string;
                    "search": unknown;
                    "status": string;
                    "stop_requested_at": string | null;
                    "ttft_ms": number | null;
                    "updated_at": string;
                    "user_id": string;
                };
                ComputedFields: never;
                Insert: {
                    "cache_write_tokens"?: number;
                    "cached_read_tokens"?: number;
                    "client_message_id"?: string | null;
                    "completed_at"?: string | null;
                    "content"?: string;
                    "conversation_id": string;
                    "cost_micro_usd"?: number;
                    "created_at"?: string;
                    "error_details"?: Json | null;
                    "error_type"?: string | null;
                    "finish_reason"?: string | null;
                    "id"?: string;
                    "input_tokens"?: number;
                    "latency_ms"?: number | null;
                    "model"?: string | null;
                    "output_tokens"?: number;
                    "parent_id"?: string | null;
                    "parts"?: NonNullable<Json>;
                    "provider"?: string | null;
                    "provider_model"?: string | null;
                    "reasoning_tokens"?: number;
                    "role": string;
                    "search"?: never;
                    "status"?: string;
                    "stop_requested_at"?: string | null;
                    "ttft_ms"?: number | null;
                    "updated_at"?: string;
                    "user_id"?: string;
                };
                Update: {
                    "cache_write_tokens"?: number;
                    "cached_read_tokens"?: number;
                    "client_message_id"?: string | null;
                    "completed_at"?: string | null;
                    "content"?: string;
                    "conversation_id"?: string;
                    "cost_micro_usd"?: number;
                    "created_at"?: string;
                    "error_details"?: Json | null;
                    "error_type"?: string | null;
                    "finish_reason"?: string | null;
                    "id"?: string;
                    "input_tokens"?: number;
                    "latency_ms"?: number | null;
                    "model"?: string | null;
                    "output_tokens"?: number;
                    "parent_id"?: string | null;
                    "parts"?: NonNullable<Json>;
                    "provider"?: string | null;
                    "provider_model"?: string | null;
                    "reasoning_tokens"?: number;
                    "role"?: string;
                    "search"?: never;
                    "status"?: string;
                    "stop_requested_at"?: string | null;
                    "ttft_ms"?: number | null;
                    "updated_at"?: string;
                    "user_id"?: string;
                };
                Relationships: [
                    {
                        foreignKeyName: "messages_conversation_id_fkey";
                        columns: ["conversation_id"];
                        isOneToOne: false;
                        referencedRelation: "conversations";
                        referencedColumns: ["id"];
                    },
                    {
                        foreignKeyName: "messages_parent_id_fkey";
                        columns: ["parent_id"];
                        isOneToOne: false;
                        referencedRelation: "messages";
                        referencedColumns: ["id"];
                    },
                    {
                        foreignKeyName: "messages_parent_id_fkey";
                        columns: ["parent_id"];
                        isOneToOne: false;
                        referencedRelation: "tool_usage";
                        referencedColumns: ["message_id"];
                    }
                ];
            };
            "model_prices": {
                Row: {
                    "cache_write_per_mtok": number;
                    "cached_read_per_mtok": number;
                    "effective_from": string;
                    "id": number;
                    "input_per_mtok": number;
                    "model_alias": string;
                    "output_per_mtok": number;
                    "reasoning_per_mtok": number | null;
                };
                ComputedFields: never;
                Insert: {
                    "cache_write_per_mtok": number;
                    "cached_read_per_mtok": number;
                    "effective_from": string;
                    "id"?: never;
                    "input_per_mtok": number;
                    "model_alias": string;
                    "output_per_mtok": number;
                    "reasoning_per_mtok"?: number | null;
                };
                Update: {
                    "cache_write_per_mtok"?: number;
                    "cached_read_per_mtok"?: number;
                    "effective_from"?: string;
                    "id"?: never;
                    "input_per_mtok"?: number;
                    "model_alias"?: string;
                    "output_per_mtok"?: number;
                    "reasoning_per_mtok"?: number | null;
                };
                Relationships: [
                    {
                        foreignKeyName: "model_prices_model_alias_fkey";
                        columns: ["model_alias"];
                        isOneToOne: false;
                        referencedRelation: "models";
                        referencedColumns: ["alias"];
                    }
                ];
            };
            "models": {
                Row: {
                    "alias": string;
                    "api_key_env": string | null;
                    "base_url": string | null;
                    "capabilities": NonNullable<Json>;
                    "context_window": number;
                    "created_at": string;
                    "display_name": string;
                    "enabled": boolean;
                    "fallback": (string)[];
                    "max_output_tokens": number;
                    "provider": string;
                    "provider_model": string;
                    "purpose": string;
                    "updated_at": string;
                };
                ComputedFields: never;
                Insert: {
                    "alias": string;
                    "api_key_env"?: string | null;
                    "base_url"?: string | null;
                    "capabilities"?: NonNullable<Json>;
                    "context_window": number;
                    "created_at"?: string;
                    "display_name": string;
                    "enabled"?: boolean;
                    "fallback"?: (string)[];
                    "max_output_tokens": number;
                    "provider": string;
                    "provider_model": string;
                    "purpose"?: string;
                    "updated_at"?: string;
                };
                Update: {
                    "alias"?: string;
                    "api_key_env"?: string | null;
                    "base_url"?: string | null;
                    "capabilities"?: NonNullable<Json>;
                    "context_window"?: number;
                    "created_at"?: string;
                    "display_name"?: string;
                    "enabled"?: boolean;
                    "fallback"?: (string)[];
                    "max_output_tokens"?: number;
                    "provider"?: string;
                    "provider_model"?: string;
                    "purpose"?: string;
                    "updated_at"?: string;
                };
                Relationships: [];
            };
            "profiles": {
                Row: {
                    "created_at": string;
                    "display_name": string | null;
                    "email": string | null;
                    "id": string;
                    "monthly_budget_usd": number | null;
                    "phone": string | null;
                    "phone_verified": boolean;
                    "preferences": NonNullable<Json>;
                    "rate_limits": NonNullable<Json>;
                    "role": string;
                    "timezone": string;
                    "updated_at": string;
                };
                ComputedFields: never;
                Insert: {
                    "created_at"?: string;
                    "display_name"?: string | null;
                    "email"?: string | null;
                    "id": string;
                    "monthly_budget_usd"?: number | null;
                    "phone"?: string | null;
                    "phone_verified"?: boolean;
                    "preferences"?: NonNullable<Json>;
                    "rate_limits"?: NonNullable<Json>;
                    "role"?: string;
                    "timezone"?: string;
                    "updated_at"?: string;
                };
                Update: {
                    "created_at"?: string;
                    "display_name"?: string | null;
                    "email"?: string | null;
                    "id"?: string;
                    "monthly_budget_usd"?: number | null;
                    "phone"?: string | null;
                    "phone_verified"?: boolean;
                    "preferences"?: NonNullable<Json>;
                    "rate_limits"?: NonNullable<Json>;
                    "role"?: string;
                    "timezone"?: string;
                    "updated_at"?: string;
                };
                Relationships: [];
            };
            "rate_limit_counters": {
                Row: {
                    "count": number;
                    "route_class": string;
                    "user_id": string;
                    "window_start": string;
                };
                ComputedFields: never;
                Insert: {
                    "count"?: number;
                    "route_class": string;
                    "user_id": string;
                    "window_start": string;
                };
                Update: {
                    "count"?: number;
                    "route_class"?: string;
                    "user_id"?: string;
                    "window_start"?: string;
                };
                Relationships: [];
            };
            "search_index": {
                Row: {
                    "chunk_index": number;
                    "content": string;
                    "created_at": string;
                    "document_id": string | null;
                    "embedding": string | null;
                    "expires_at": string | null;
                    "fts": unknown;
                    "id": number;
                    "language": unknown;
                    "object_id": string;
                    "object_type": string;
                    "occurred_at": string | null;
                    "owner_id": string;
                    "source": string | null;
                    "title": string | null;
                    "visibility": string;
                };
                ComputedFields: never;
                Insert: {
                    "chunk_index": number;
                    "content": string;
                    "created_at"?: string;
                    "document_id"?: string | null;
                    "embedding"?: string | null;
                    "expires_at"?: string | null;
                    "fts"?: never;
                    "id"?: never;
                    "language"?: unknown;
                    "object_id": string;
                    "object_type": string;
                    "occurred_at"?: string | null;
                    "owner_id": string;
                    "source"?: string | null;
                    "title"?: string | null;
                    "visibility"?: string;
                };
                Update: {
                    "chunk_index"?: number;
                    "content"?: string;
                    "created_at"?: string;
                    "document_id"?: string | null;
                    "embedding"?: string | null;
                    "expires_at"?: string | null;
                    "fts"?: never;
                    "id"?: never;
                    "language"?: unknown;
                    "object_id"?: string;
                    "object_type"?: string;
                    "occurred_at"?: string | null;
                    "owner_id"?: string;
                    "source"?: string | null;
                    "title"?: string | null;
                    "visibility"?: string;
                };
                Relationships: [
                    {
                        foreignKeyName: "search_index_document_id_fkey";
                        columns: ["document_id"];
                        isOneToOne: false;
                        referencedRelation: "documents";
                        referencedColumns: ["id"];
                    }
                ];
            };
            "usage_daily": {
                Row: {
                    "cache_write_tokens": number;
                    "cached_read_tokens": number;
                    "calls": number;
                    "cost_micro_usd": number;
                    "day": string;
                    "input_tokens": number;
                    "model": string;
                    "output_tokens": number;
                    "product": string;
                    "product_step": string;
                    "reasoning_tokens": number;
                    "user_id": string;
                };
                ComputedFields: never;
                Insert: {
                    "cache_write_tokens"?: number;
                    "cached_read_tokens"?: number;
                    "calls"?: number;
                    "cost_micro_usd"?: number;
                    "day": string;
                    "input_tokens"?: number;
                    "model": string;
                    "output_tokens"?: number;
                    "product": string;
                    "product_step": string;
                    "reasoning_tokens"?: number;
                    "user_id": string;
                };
                Update: {
                    "cache_write_tokens"?: number;
                    "cached_read_tokens"?: number;
                    "calls"?: number;
                    "cost_micro_usd"?: number;
                    "day"?: string;
                    "input_tokens"?: number;
                    "model"?: string;
                    "output_tokens"?: number;
                    "product"?: string;
                    "product_step"?: string;
                    "reasoning_tokens"?: number;
                    "user_id"?: string;
                };
                Relationships: [];
            };
            "usage_ledger": {
                Row: {
                    "attempt": number;
                    "cache_write_tokens": number;
                    "cached_read_tokens": number;
                    "call_id": string;
                    "conversation_id": string | null;
                    "cost_micro_usd": number;
                    "created_at": string;
                    "error_message": string | null;
                    "error_type": string | null;
                    "id": number;
                    "input_tokens": number;
                    "latency_ms": number | null;
                    "message_id": string | null;
                    "model": string;
                    "output_tokens": number;
                    "price_id": number | null;
                    "product": string;
                    "product_step": string;
                    "provider": string;
                    "provider_model": string;
                    "reasoning_tokens": number;
                    "request_id": string | null;
                    "status": string;
                    "ttft_ms": number | null;
                    "user_id": string;
                };
                ComputedFields: never;
                Insert: {
                    "attempt"?: number;
                    "cache_write_tokens"?: number;
                    "cached_read_tokens"?: number;
                    "call_id": string;
                    "conversation_id"?: string | null;
                    "cost_micro_usd"?: number;
                    "created_at"?: string;
                    "error_message"?: string | null;
                    "error_type"?: string | null;
                    "id"?: never;
                    "input_tokens"?: number;
                    "latency_ms"?: number | null;
                    "message_id"?: string | null;
                    "model": string;
                    "output_tokens"?: number;
                    "price_id"?: number | null;
                    "product"?: string;
                    "product_step": string;
                    "provider": string;
                    "provider_model": string;
                    "reasoning_tokens"?: number;
                    "request_id"?: string | null;
                    "status": string;
                    "ttft_ms"?: number | null;
                    "user_id": string;
                };
                Update: {
                    "attempt"?: number;
                    "cache_write_tokens"?: number;
                    "cached_read_tokens"?: number;
                    "call_id"?: string;
                    "conversation_id"?: string | null;
                    "cost_micro_usd"?: number;
                    "created_at"?: string;
                    "error_message"?: string | null;
                    "error_type"?: string | null;
                    "id"?: never;
                    "input_tokens"?: number;
                    "latency_ms"?: number | null;
                    "message_id"?: string | null;
                    "model"?: string;
                    "output_tokens"?: number;
                    "price_id"?: number | null;
                    "product"?: string;
                    "product_step"?: string;
                    "provider"?: string;
                    "provider_model"?: string;
                    "reasoning_tokens"?: number;
                    "request_id"?: string | null;
                    "status"?: string;
                    "ttft_ms"?: number | null;
                    "user_id"?: string;
                };
                Relationships: [
                    {
                        foreignKeyName: "usage_ledger_conversation_id_fkey";
                        columns: ["conversation_id"];
                        isOneToOne: false;
                        referencedRelation: "conversations";
                        referencedColumns: ["id"];
                    },
                    {
                        foreignKeyName: "usage_ledger_message_id_fkey";
                        columns: ["message_id"];
                        isOneToOne: false;
                        referencedRelation: "messages";
                        referencedColumns: ["id"];
                    },
                    {
                        foreignKeyName: "usage_ledger_message_id_fkey";
                        columns: ["message_id"];
                        isOneToOne: false;
                        referencedRelation: "tool_usage";
                        referencedColumns: ["message_id"];
                    },
                    {
                        foreignKeyName: "usage_ledger_price_id_fkey";
                        columns: ["price_id"];
                        isOneToOne: false;
                        referencedRelation: "model_prices";
                        referencedColumns: ["id"];
                    }
                ];
            };
        };
        Views: {
            "tool_usage": {
                Row: {
                    "conversation_id": string;
                    "created_at": string;
                    "duration_ms": number | null;
                    "is_error": boolean | null;
                    "message_id": string;
                    "tool_name": string | null;
                    "user_id": string;
                };
                ComputedFields: never;
                Insert: {
                    "conversation_id"?: string | null;
                    "created_at"?: string | null;
                    "duration_ms"?: number | null;
                    "is_error"?: boolean | null;
                    "message_id"?: string | null;
                    "tool_name"?: string | null;
                    "user_id"?: string | null;
                };
                Update: {
                    "conversation_id"?: string | null;
                    "created_at"?: string | null;
                    "duration_ms"?: number | null;
                    "is_error"?: boolean | null;
                    "message_id"?: string | null;
                    "tool_name"?: string | null;
                    "user_id"?: string | null;
                };
                Relationships: [
                    {
                        foreignKeyName: "messages_conversation_id_fkey";
                        columns: ["conversation_id"];
                        isOneToOne: false;
                        referencedRelation: "conversations";
                        referencedColumns: ["id"];
                    }
                ];
            };
        };
        Functions: {
            "hook_before_user_created": {
                Args: {
                    "event": Json;
                };
                Returns: Json;
            };
            "hybrid_search": {
                Args: {
                    "document_ids"?: (string)[];
                    "full_text_weight"?: number;
                    "match_count"?: number;
                    "object_types"?: (string)[];
                    "occurred_from"?: string;
                    "occurred_to"?: string;
                    "query_embedding": string;
                    "query_text": string;
                    "rrf_k"?: number;
                    "semantic_weight"?: number;
                    "sources"?: (string)[];
                };
                Returns: {
                    "chunk_index": number;
                    "content": string;
                    "document_id": string;
                    "full_text_rank": number;
                    "id": number;
                    "object_id": string;
                    "object_type": string;
                    "occurred_at": string;
                    "score": number;
                    "semantic_rank": number;
                    "snippet": string;
                    "source": string;
                    "title": string;
                }[];
            };
        };
        Enums: {
            [_ in never]: never;
        };
        CompositeTypes: {
            [_ in never]: never;
        };
    };
};
type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">;
type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">];
export type Tables<DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"]) | {
    schema: keyof DatabaseWithoutInternals;
}, TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
} ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] & DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"]) : never = never> = DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
} ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] & DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
    Row: infer R;
} ? R : never : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"]) ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
    Row: infer R;
} ? R : never : never;
export type TablesInsert<DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"] | {
    schema: keyof DatabaseWithoutInternals;
}, TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
} ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] : never = never> = DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
} ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
    Insert: infer I;
} ? I : never : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"] ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
    Insert: infer I;
} ? I : never : never;
export type TablesUpdate<DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"] | {
    schema: keyof DatabaseWithoutInternals;
}, TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
} ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] : never = never> = DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
} ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
    Update: infer U;
} ? U : never : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"] ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
    Update: infer U;
} ? U : never : never;
export type Enums<DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"] | {
    schema: keyof DatabaseWithoutInternals;
}, EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
} ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"] : never = never> = DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
} ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName] : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"] ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions] : never;
export type CompositeTypes<PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"] | {
    schema: keyof DatabaseWithoutInternals;
}, CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
} ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"] : never = never> = PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals;
} ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName] : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"] ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions] : never;
export declare const Constants: {
    readonly public: {
        readonly Enums: {};
    };
};
export {};
//# sourceMappingURL=database.d.ts.map