// An incremental Server-Sent Events parser (the WHATWG "event stream" rules): feed it text
// chunks as they arrive, it calls back once per complete event. EventSource cannot send an
// Authorization header, so the client reads the stream with fetch and parses it here.

export interface SseMessage {
  /** the `event:` field, "message" when absent */
  event: string;
  /** the `data:` lines joined with "\n" */
  data: string;
  /** the last `id:` seen so far in the stream (ids persist across events, as in EventSource) */
  id: string | null;
}

export class SseParser {
  private buffer = "";
  private eventType = "";
  private dataLines: string[] = [];
  private lastId: string | null = null;
  private sawCr = false;

  constructor(
    private readonly onMessage: (message: SseMessage) => void,
    private readonly onRetry: (ms: number) => void = () => {},
  ) {}

  /** Feed the next decoded chunk of the stream. */
  push(chunk: string): void {
    let text = chunk;
    if (this.sawCr && text.startsWith("\n")) text = text.slice(1); // a CRLF split over chunks
    this.sawCr = text.endsWith("\r");
    this.buffer += text;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  /** The last event id the stream gave (what a reconnection sends as Last-Event-ID). */
  get lastEventId(): string | null {
    return this.lastId;
  }

  private line(line: string): void {
    if (line === "") {
      this.dispatch();
      return;
    }
    if (line.startsWith(":")) return; // a comment (heartbeat)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.eventType = value;
        break;
      case "data":
        this.dataLines.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.onRetry(Number(value));
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    const type = this.eventType || "message";
    const data = this.dataLines;
    this.eventType = "";
    this.dataLines = [];
    if (data.length === 0) return;
    this.onMessage({ event: type, data: data.join("\n"), id: this.lastId });
  }
}
