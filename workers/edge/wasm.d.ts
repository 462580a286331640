/** A `.wasm` import in a Worker is a compiled module (wrangler's CompiledWasm rule), never bytes. */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}

/** The Worker's bindings at global scope (workerd's `cloudflare:workers` module). */
declare module 'cloudflare:workers' {
  export const env: Record<string, unknown> | undefined;
}
