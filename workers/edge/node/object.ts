/**
 * `AlysLightNode`: the edge Worker's Durable Object class (one object per chain), SQLite-backed
 * (`new_sqlite_classes` in wrangler.toml). Its storage holds the light node's store
 * (src/platform/workerd/storage-do.ts).
 */
export class AlysLightNode {
  constructor(
    readonly ctx: unknown,
    readonly env: unknown,
  ) {}
  async fetch(): Promise<Response> {
    return new Response('no route', { status: 404 });
  }
}
