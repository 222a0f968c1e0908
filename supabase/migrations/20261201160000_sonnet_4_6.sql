-- Anthropic retired Claude Sonnet 4.5 (claude-sonnet-4-5-20250929) on 2026-11-30: its API now
-- refuses the id, and @anthropic-ai/sdk 1.14 warns on every request that names it. The seeded
-- default chat model was that one, so a project deployed from these migrations would answer every
-- default chat with a provider error. Its successor at the same price, Claude Sonnet 4.6
-- (claude-sonnet-4-6; platform.claude.com "Models overview", released 2026-02-17: 1M context,
-- 128K output, $3 / $15 per MTok), takes its place: as the default, in the fallback chains, and
-- for the conversations that named it. Claude Opus 4.5 follows on 2027-01-22 (same SDK list).
--
-- Messages keep the model that wrote them (usage and the ledger are history). Cost on a deployed
-- project: a few rows of models, model_prices and app_settings, and one update of the
-- conversations that named the retired model (an index-less pass over conversations).

insert into public.models (alias, provider, provider_model, display_name, purpose, context_window,
                           max_output_tokens, capabilities, fallback) values
  ('claude-sonnet-4.6', 'anthropic', 'claude-sonnet-4-6', 'Claude Sonnet 4.6', 'chat', 1000000, 128000,
   '{"tools": true, "reasoning": true, "prompt_caching": true, "vision": true, "pdf": true}', '{gpt-5.2}')
on conflict (alias) do nothing;

insert into public.model_prices (model_alias, effective_from, input_per_mtok, output_per_mtok,
                                 cached_read_per_mtok, cache_write_per_mtok) values
  ('claude-sonnet-4.6', '2026-02-17', 3, 15, 0.3, 3.75)
on conflict do nothing;

update public.app_settings set value = '"claude-sonnet-4.6"'
where key = 'chat.default_model' and value = '"claude-sonnet-4.5"';

update public.models set fallback = array_replace(fallback, 'claude-sonnet-4.5', 'claude-sonnet-4.6')
where 'claude-sonnet-4.5' = any (fallback);

update public.conversations set model = 'claude-sonnet-4.6' where model = 'claude-sonnet-4.5';

update public.models set enabled = false where alias = 'claude-sonnet-4.5';
