-- Everything a chat send does before the provider is called, in one statement (issue 20: at
-- most two database round trips between the request and the provider call; the second is the
-- usage ledger's row at the provider call's start). private.prepare_reply is the chat gate and
-- the send in one: the rate limit, the budget, the conversation, idempotency, the user message,
-- the assistant message (with its cap on replies in flight), and what the reply reads (its
-- history window, mentioned documents, the user's timezone).
--
-- The history window is read from the newest message back and stops early: at the message the
-- stored summary ends with, or after a number of messages or characters (the caller's bounds),
-- so a send costs the same in a conversation of 20 messages and of 20,000.

insert into public.app_settings (key, value, description) values
  ('chat.history_max_messages', '100',
   'messages of the history sent to the model at most; older turns are summarized')
on conflict (key) do nothing;

-- Runs as the caller's role only for the gate (rate limit and budget, which users may not call),
-- then switches to `authenticated` with the caller's verified claims for everything else, as
-- asUser() does for every other request: Row Level Security decides what the user may read and
-- write, the same rules PostgREST applies (it is not a definer: no second copy of those rules).
-- Only the functions' database role may call it: it is in `private` (not exposed by PostgREST)
-- and execute is revoked from anon and authenticated. Call it as its own statement (not inside
-- a transaction): the role switch is undone at its end, but only within its transaction.
--
-- Answer (jsonb): `rate_limit` (the check_rate_limit row; null for a user without a profile, or
-- when not counted here) and `budget` (budget_status), then, when both let the request through, one of
--   `refused`: a rule refused the request (sqlstate PTxyz = HTTP status xyz, message, hint = the
--     error code, detail = JSON details); nothing was written but the rate-limit count;
--   `existing_reply_id`: a repeated p_client_message_id whose reply exists (nothing written);
--   the plan: user_message_id, assistant_id, model (the alias the reply is made with),
--     downgraded (a cheaper model answers: the budget's soft limit), system_prompt, title_from,
--     summary ({text, through_id}, only when the history window reaches it), history ([{id,
--     role, content, attachments?}], oldest first, ending with the user message), mentions
--     ([{id, title, content}]), timezone.
create function private.prepare_reply(
  -- Who: the claims of the access token the function verified (sub is the user id); the rate
  -- limit class to count the request in (null: the caller counted it already, as the planner
  -- and the inbox do before they create a conversation; the budget is checked either way).
  p_claims jsonb,
  p_rate_class text,
  p_conversation uuid,
  -- A new message: its parts (text first, then attachments; the mentioned documents' file
  -- parts are added after them), its text, the client's id for it (a repeat finds the reply
  -- already made), the message it answers (null: after the active leaf, or a new root when
  -- p_new_root) and the documents it mentions.
  p_parts jsonb,
  p_content text,
  p_client_message_id text,
  p_parent uuid,
  p_new_root boolean,
  p_mentions uuid[],
  -- Or a new reply to the user message that this message is or answers (p_parts is null then).
  p_regenerate uuid,
  -- The model asked for (null: the conversation's); the aliases this instance can call as a
  -- chat model, and as the budget's cheaper stand-in (enabled, provider configured).
  p_model text,
  p_chat_models text[],
  p_downgrade_models text[],
  -- Bounds of the history read: messages, and characters of content.
  p_history_messages int,
  p_history_chars int
) returns jsonb
language plpgsql set search_path = '' as $$
declare
  v_user uuid := (p_claims ->> 'sub')::uuid;
  v_rate jsonb;
  v_budget jsonb;
  v_answer jsonb;
  v_state text;
  v_hint text;
  v_detail text;
  v_conversation record;
  v_existing_id uuid;
  v_existing_reply uuid;
  v_parent uuid;
  v_user_message uuid;
  v_user_parent uuid;
  v_regenerated_role text;
  v_document_ids uuid[];
  v_mentions jsonb;
  v_missing text[];
  v_model text;
  v_downgrade text;
  v_downgraded boolean := false;
  v_assistant uuid;
  v_history jsonb;
  v_summary_reached boolean;
begin
  -- The gate first, as the caller: its count stays even when a rule below refuses.
  if p_rate_class is not null then
    select to_jsonb(l) into v_rate from private.check_rate_limit(v_user, p_rate_class) l;
    if v_rate is null or not (v_rate ->> 'allowed')::boolean then
      return jsonb_build_object('rate_limit', v_rate);
    end if;
  end if;
  v_budget := private.budget_status(v_user);
  if v_budget ->> 'state' = 'hard' then
    return jsonb_build_object('rate_limit', v_rate, 'budget', v_budget);
  end if;
  v_downgrade := v_budget ->> 'downgrade_model';

  <<send>>
  begin
    perform set_config('role', 'authenticated', true),
            set_config('request.jwt.claims', p_claims::text, true);

    -- The conversation, locked: sends to one conversation take their turn.
    select c.id, c.model, c.system_prompt, c.title, c.active_leaf_id, c.summary,
           c.summary_through_id
      into v_conversation
    from public.conversations c
    where c.id = p_conversation and c.deleted_at is null
    for update;
    if not found then
      raise exception 'Conversation not found' using errcode = 'PT404', hint = 'not_found';
    end if;

    if p_regenerate is null then
      -- Idempotency: the same client message id again finds the reply it already has.
      if p_client_message_id is not null then
        select u.id, (select r.id from public.messages r
                      where r.parent_id = u.id and r.role = 'assistant'
                      order by r.created_at limit 1)
          into v_existing_id, v_existing_reply
        from public.messages u
        where u.conversation_id = p_conversation and u.client_message_id = p_client_message_id;
        if v_existing_reply is not null then
          v_answer := jsonb_build_object('existing_reply_id', v_existing_reply);
          exit send;
        elsif v_existing_id is not null then
          raise exception 'This message was already sent and has no reply'
            using errcode = 'PT409', hint = 'conflict';
        end if;
      end if;
      v_parent := case when p_new_root then null
                       else coalesce(p_parent, v_conversation.active_leaf_id) end;
      if v_parent is not null
         and not exists (select 1 from public.messages m
                         where m.id = v_parent and m.conversation_id = p_conversation) then
        raise exception 'parent_id is not a message of this conversation'
          using errcode = 'PT422', hint = 'invalid_parent';
      end if;
      v_document_ids := coalesce(p_mentions, '{}');
    else
      select m.role, case when m.role = 'user' then m.id else m.parent_id end
        into v_regenerated_role, v_user_message
      from public.messages m
      where m.id = p_regenerate and m.conversation_id = p_conversation;
      if v_regenerated_role is null then
        raise exception 'Message not found' using errcode = 'PT404', hint = 'not_found';
      end if;
      if v_user_message is null then
        raise exception 'This message answers no user message'
          using errcode = 'PT422', hint = 'invalid_message';
      end if;
      -- The documents the original message mentioned (kept on it as file parts).
      select m.parent_id,
             coalesce((select array_agg((p.part ->> 'document_id')::uuid order by p.n)
                       from jsonb_array_elements(m.parts) with ordinality as p (part, n)
                       where p.part ->> 'type' = 'file' and p.part ? 'document_id'), '{}')
        into v_user_parent, v_document_ids
      from public.messages m
      where m.id = v_user_message;
    end if;

    -- Mentioned documents the user may read (RLS), in the order given; on a new message an
    -- unreadable one is the caller's error, on a regenerated one it is left out.
    select coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'title', d.title,
                                                 'content', d.content) order by i.n)
                      filter (where d.id is not null), '[]'),
           array_agg(i.id::text order by i.n) filter (where d.id is null)
      into v_mentions, v_missing
    from unnest(v_document_ids) with ordinality as i (id, n)
    left join public.documents d on d.id = i.id;
    if v_missing is not null and p_regenerate is null then
      raise exception 'A mentioned document does not exist or is not readable'
        using errcode = 'PT422', hint = 'unknown_document',
              detail = jsonb_build_object('missing', to_jsonb(v_missing))::text;
    end if;

    -- The model: the one asked for or the conversation's, if this instance can call it.
    v_model := coalesce(p_model, v_conversation.model);
    if not (v_model = any (p_chat_models)) then
      if exists (select 1 from public.models m
                 where m.alias = v_model and m.enabled and m.purpose = 'chat') then
        raise exception 'No provider key is configured for "%"', v_model
          using errcode = 'PT503', hint = 'provider_not_configured';
      end if;
      raise exception 'Unknown or disabled model "%"', v_model
        using errcode = 'PT422', hint = 'unknown_model';
    end if;

    if p_regenerate is null then
      -- Mentioned documents are kept on the message as file parts (a regenerated reply reads them).
      insert into public.messages (conversation_id, parent_id, role, parts, content,
                                   client_message_id)
      values (p_conversation, v_parent, 'user',
              p_parts || coalesce((select jsonb_agg(jsonb_build_object('type', 'file',
                                     'document_id', d.doc ->> 'id', 'title', d.doc ->> 'title'))
                                   from jsonb_array_elements(v_mentions) as d (doc)), '[]'),
              p_content, p_client_message_id)
      returning id into v_user_message;
      v_user_parent := v_parent;
      if v_model is distinct from v_conversation.model then
        update public.conversations set model = v_model where id = p_conversation;
      end if;
    end if;

    -- Past the budget's soft limit the cheaper model answers (if this instance can call it).
    if v_budget ->> 'state' = 'soft' and v_downgrade is distinct from v_model
       and v_downgrade = any (p_downgrade_models) then
      v_model := v_downgrade;
      v_downgraded := true;
    end if;
    -- 429 too_many_streams past the cap on replies in flight.
    v_assistant := private.open_assistant_message(p_conversation, v_user_message, v_model);

    -- The history window: from the user message back, until the message the stored summary
    -- ends with (what came before is in the summary), the root, or the bounds.
    -- A message's attachment parts come with it (the reply decides which files to send again).
    with recursive path as (
      select m.id, m.parent_id, m.role, m.content, m.parts, 1 as n,
             char_length(m.content) as chars
      from public.messages m where m.id = v_user_message
      union all
      select m.id, m.parent_id, m.role, m.content, m.parts, p.n + 1,
             p.chars + char_length(m.content)
      from path p join public.messages m on m.id = p.parent_id
      where p.n < p_history_messages and p.chars < p_history_chars
        and m.id is distinct from v_conversation.summary_through_id
    )
    select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                       'id', p.id, 'role', p.role, 'content', p.content,
                       'attachments', nullif(jsonb_path_query_array(
                         p.parts, '$[*] ? (@.type == "attachment")'), '[]'::jsonb)))
                     order by p.n desc),
           coalesce(bool_or(p.parent_id = v_conversation.summary_through_id), false)
      into v_history, v_summary_reached
    from path p;

    v_answer := jsonb_build_object(
      'user_message_id', v_user_message,
      'assistant_id', v_assistant,
      'model', v_model,
      'downgraded', v_downgraded,
      'system_prompt', v_conversation.system_prompt,
      -- A conversation's first exchange (no title yet, the message is a root) names it.
      'title_from', case when v_conversation.title is null and v_user_parent is null
                         then v_history -> 0 ->> 'content' end,
      'summary', case when v_summary_reached
                      then jsonb_build_object('text', v_conversation.summary,
                                              'through_id', v_conversation.summary_through_id) end,
      'history', v_history,
      'mentions', v_mentions,
      'timezone', coalesce((select p.timezone from public.profiles p where p.id = v_user), 'UTC'));
  exception when others then
    -- A rule's refusal (PTxyz) undoes this block's writes and the role switch, and is answered;
    -- anything else is a bug and fails the statement.
    get stacked diagnostics v_state = returned_sqlstate, v_hint = pg_exception_hint,
                            v_detail = pg_exception_detail;
    if v_state not like 'PT%' then
      raise;
    end if;
    v_answer := jsonb_build_object('refused', jsonb_build_object(
      'sqlstate', v_state, 'message', sqlerrm, 'hint', v_hint, 'detail', nullif(v_detail, '')));
  end;
  perform set_config('role', 'none', true), set_config('request.jwt.claims', '', true);
  return v_answer || jsonb_build_object('rate_limit', v_rate, 'budget', v_budget);
end $$;
revoke execute on function private.prepare_reply(jsonb, text, uuid, jsonb, text, text, uuid, boolean,
  uuid[], uuid, text, text[], text[], int, int) from public, anon, authenticated;
