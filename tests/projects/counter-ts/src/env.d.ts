// Text modules (wrangler's default rule for .txt) import as a string.
declare module "*.txt" {
  const text: string;
  export default text;
}
