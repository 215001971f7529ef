/**
 * RawJson: a value that is already JSON text (an event as the state scripts encoded it), passed
 * through to the wire as is instead of being parsed and encoded again for every delivery.
 * server/http/trpc-ws.ts writes its text into the message; any other serializer (JSON.stringify)
 * sees the parsed value through toJSON(), so nothing depends on knowing about it.
 */
export class RawJson {
  constructor(readonly json: string) {}

  /** JSON text of an object, as cjson writes it (a cheap check of the frame, not a parse). */
  static object(json: string): RawJson {
    if (json.charCodeAt(0) !== 0x7b || json.charCodeAt(json.length - 1) !== 0x7d) throw new Error('not the JSON of an object');
    return new RawJson(json);
  }

  toJSON(): unknown {
    return JSON.parse(this.json);
  }
}
