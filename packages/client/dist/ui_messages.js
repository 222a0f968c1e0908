export function toUIMessage(message) {
    const parts = [];
    const stored = message.parts ?? (message.content ? [{ type: "text", text: message.content }] : []);
    const results = new Map(stored.filter((p) => p.type === "tool_result").map((p) => [p.tool_call_id, p]));
    let error;
    for (const p of stored) {
        switch (p.type) {
            case "text":
                parts.push({ type: "text", text: p.text, state: "done" });
                break;
            case "reasoning":
                parts.push({ type: "reasoning", text: p.text, state: "done" });
                break;
            case "tool_call": {
                const result = results.get(p.id);
                parts.push(result?.is_error
                    ? {
                        type: "dynamic-tool",
                        toolName: p.name,
                        toolCallId: p.id,
                        state: "output-error",
                        input: p.input,
                        errorText: JSON.stringify(result.output),
                    }
                    : result
                        ? {
                            type: "dynamic-tool",
                            toolName: p.name,
                            toolCallId: p.id,
                            state: "output-available",
                            input: p.input,
                            output: result.output,
                        }
                        : { type: "dynamic-tool", toolName: p.name, toolCallId: p.id, state: "input-available", input: p.input });
                break;
            }
            case "citation": {
                const sourceId = `${p.document_id}#${p.chunk_index}`;
                const aide = { documentId: p.document_id, chunkIndex: p.chunk_index, snippet: p.snippet };
                parts.push(p.url === undefined
                    ? { type: "source-document", sourceId, mediaType: "text/plain", title: p.title, providerMetadata: { aide } }
                    : { type: "source-url", sourceId, url: p.url, title: p.title, providerMetadata: { aide } });
                break;
            }
            case "error":
                error = { code: p.code, message: p.message };
                break;
        }
    }
    return {
        id: message.id,
        role: message.role === "user" ? "user" : message.role === "system" ? "system" : "assistant",
        parts,
        metadata: {
            parentId: message.parent_id,
            status: message.status,
            ...(message.sibling_ids ? { siblingIds: message.sibling_ids } : {}),
            ...(error ? { error } : {}),
        },
    };
}
export const toUIMessages = (messages) => messages.map(toUIMessage);
/** The citations of a message, each passage once. */
export function citationsOf(message) {
    const seen = new Map();
    for (const p of message.parts) {
        if (p.type !== "source-document" && p.type !== "source-url")
            continue;
        const aide = (p.providerMetadata?.aide ?? {});
        seen.set(p.sourceId, {
            sourceId: p.sourceId,
            title: p.title ?? "",
            ...aide,
            ...(p.type === "source-url" ? { url: p.url } : {}),
        });
    }
    return [...seen.values()];
}
//# sourceMappingURL=ui_messages.js.map