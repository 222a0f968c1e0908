import { DefaultChatTransport, type UIMessage, type UIMessageChunk } from "ai";
import type { Transport } from "./http.ts";
/** What a chat request may carry in `sendMessage(message, { body })`. */
export interface AideChatBody {
    /** Edit: send as a sibling of a message with this parent (null: the first message). */
    parent_id?: string | null;
    /** Documents to put in the model's context. */
    mentions?: string[];
    model?: string;
}
export interface ChatTransportOptions {
    /** The model for new replies (default: the conversation's). */
    model?: string;
}
interface ConversationCalls {
    runningReply(id: string): Promise<string | null>;
    stop(id: string, messageId: string): Promise<unknown>;
}
export declare class AideChatTransport<M extends UIMessage = UIMessage> extends DefaultChatTransport<M> {
    #private;
    readonly conversationId: string;
    constructor(transport: Transport, calls: ConversationCalls, conversationId: string, options?: ChatTransportOptions);
    /** Stops the reply being streamed (or, before its id is known, the conversation's running one). */
    stop(): Promise<void>;
    sendMessages(options: Parameters<DefaultChatTransport<M>["sendMessages"]>[0]): Promise<ReadableStream<UIMessageChunk>>;
    /** After a reload: follows the reply still being generated on the active branch, if any. */
    reconnectToStream(options: Parameters<DefaultChatTransport<M>["reconnectToStream"]>[0]): Promise<ReadableStream<UIMessageChunk> | null>;
}
export {};
//# sourceMappingURL=chat_transport.d.ts.map