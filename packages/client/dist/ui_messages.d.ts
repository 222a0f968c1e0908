import type { UIMessage } from "ai";
/** Stored message parts (messages.parts), as the API returns them. */
export type StoredPart = {
    type: "text";
    text: string;
} | {
    type: "reasoning";
    text: string;
} | {
    type: "tool_call";
    id: string;
    name: string;
    input: unknown;
} | {
    type: "tool_result";
    tool_call_id: string;
    name: string;
    output: unknown;
    is_error: boolean;
} | {
    type: "citation";
    document_id: string;
    chunk_index: number;
    title: string;
    snippet: string;
    url?: string;
} | {
    type: "error";
    code: string;
    message: string;
};
export interface StoredMessage {
    id: string;
    parent_id: string | null;
    role: string;
    status: string;
    parts: StoredPart[] | null;
    content: string | null;
    sibling_ids?: string[];
}
/** What each UIMessage carries besides its parts. */
export interface AideMessageMetadata {
    parentId: string | null;
    status: string;
    /** Ids of the messages with the same parent, this one included (when the API sends them). */
    siblingIds?: string[];
    error?: {
        code: string;
        message: string;
    };
}
export type AideUIMessage = UIMessage<AideMessageMetadata>;
export declare function toUIMessage(message: StoredMessage): AideUIMessage;
export declare const toUIMessages: (messages: StoredMessage[]) => AideUIMessage[];
/** A cited passage of a UIMessage source part (from the live stream or from history). */
export interface SourceCitation {
    sourceId: string;
    title: string;
    documentId?: string;
    chunkIndex?: number;
    snippet?: string;
    url?: string;
}
/** The citations of a message, each passage once. */
export declare function citationsOf(message: UIMessage): SourceCitation[];
//# sourceMappingURL=ui_messages.d.ts.map