/** Vite's `?url` imports: the built asset's URL (the classifier worker's WebAssembly binaries). */
declare module '*.wasm?url' {
  const url: string;
  export default url;
}
