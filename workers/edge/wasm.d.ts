/** A `.wasm` import in a Worker is a compiled module (wrangler's CompiledWasm rule), never bytes. */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
