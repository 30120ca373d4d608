/**
 * A value that is already JSON text, such as rows PostgreSQL assembled into a
 * JSON array. The JSON-RPC codec writes `text` into the reply as it is, so
 * large results are neither parsed nor serialised again in this process.
 */
export class JsonText {
  constructor(readonly text: string) {}

  /** For anything else that serialises it (tests, logs): the value it stands for. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}
