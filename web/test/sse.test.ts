// @vitest-environment node
import { describe, expect, it } from "vitest";

import { SseParser, type SseMessage } from "../src/sse";

function parse(chunks: string[]): { messages: SseMessage[]; retries: number[] } {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const parser = new SseParser(
    (m) => messages.push(m),
    (ms) => retries.push(ms),
  );
  for (const chunk of chunks) parser.push(chunk);
  return { messages, retries };
}

describe("SseParser", () => {
  it("parses events with ids, names and data", () => {
    const { messages } = parse(['id: 3\nevent: sync-progress\ndata: {"a":1}\n\n']);
    expect(messages).toEqual([{ event: "sync-progress", data: '{"a":1}', id: "3" }]);
  });

  it("joins events split anywhere across chunks, CRLF included", () => {
    const text = "id: 1\r\nevent: a\r\ndata: x\r\n\r\nid: 2\r\nevent: b\r\ndata: y\r\n\r\n";
    const chunks = text.split("").reduce<string[]>((acc, ch, i) => {
      if (i % 3 === 0) acc.push(ch);
      else acc[acc.length - 1] += ch;
      return acc;
    }, []);
    const { messages } = parse(chunks);
    expect(messages.map((m) => [m.id, m.event, m.data])).toEqual([
      ["1", "a", "x"],
      ["2", "b", "y"],
    ]);
  });

  it("ignores comments, keeps the last id, joins data lines, reads retry", () => {
    const { messages, retries } = parse([
      ": keep-alive\n\n",
      "id: 7\nevent: one\ndata: a\ndata: b\n\n",
      "event: two\ndata:c\n\n",
      "retry: 2000\nid: 8\nevent: stream-interrupted\ndata: {}\n\n",
      "retry: soon\n\n",
    ]);
    expect(messages).toEqual([
      { event: "one", data: "a\nb", id: "7" },
      { event: "two", data: "c", id: "7" },
      { event: "stream-interrupted", data: "{}", id: "8" },
    ]);
    expect(retries).toEqual([2000]);
  });

  it("dispatches nothing for a block without data, and an unnamed event as message", () => {
    const { messages } = parse(["event: x\n\n", "data: hello\n\n"]);
    expect(messages).toEqual([{ event: "message", data: "hello", id: null }]);
  });

  it("holds an incomplete event until its blank line", () => {
    const { messages } = parse(["event: x\ndata: 1\n"]);
    expect(messages).toEqual([]);
  });
});
