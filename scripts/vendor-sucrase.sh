#!/usr/bin/env bash
# Rebuild workbench/dobj/vendor/sucrase/sucrase.js: sucrase (MIT) bundled by esbuild into one
# minified IIFE that defines the global `sucrase` with one function,
#   sucrase.strip(code, filePath) -> JSON {code, mappings} | {error, loc}
# which removes TypeScript types and keeps ES module syntax and line numbers.
# Needs Node and npm (only here: dobj itself runs the result on QuickJS, without Node).
#   scripts/vendor-sucrase.sh [SUCRASE_VERSION]
set -euo pipefail
version="${1:-3.35.1}"
esbuild_version="0.25.12"
here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/workbench/dobj/vendor/sucrase"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "sucrase@$version" "esbuild@$esbuild_version"

# One entry point: errors come back as data, and the result is a fresh flat string
# (the Python binding cannot return QuickJS rope strings, and cuts strings at NUL).
cat > entry.js <<'JS'
import { transform } from "sucrase";
export function strip(code, filePath) {
  try {
    const out = transform(code, {
      transforms: ["typescript"],
      disableESTransforms: true,
      filePath,
      sourceMapOptions: { compiledFilename: filePath },
    });
    return JSON.stringify({ code: out.code, mappings: out.sourceMap.mappings });
  } catch (e) {
    return JSON.stringify({ error: String(e && e.message), loc: (e && e.loc) || null });
  }
}
JS
npx esbuild entry.js --bundle --minify --format=iife --global-name=sucrase --target=es2020 \
  --legal-comments=eof --outfile="$out/sucrase.js" --log-level=warning --metafile=meta.json

# The license of sucrase, then of every package the bundle took code from.
cp node_modules/sucrase/LICENSE "$out/LICENSE"
node -e '
  const fs = require("fs");
  const inputs = Object.keys(JSON.parse(fs.readFileSync("meta.json")).inputs);
  const names = new Set(inputs.filter((p) => p.includes("node_modules/")).map((p) => {
    const parts = p.split("node_modules/").pop().split("/");
    return parts[0].startsWith("@") ? parts[0] + "/" + parts[1] : parts[0];
  }));
  let text = "Packages bundled into sucrase.js, with their licenses.\n";
  for (const name of [...names].sort()) {
    const dir = "node_modules/" + name;
    const pkg = JSON.parse(fs.readFileSync(dir + "/package.json"));
    const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
    text += "\n==== " + name + " " + pkg.version + " (" + pkg.license + ") ====\n\n";
    text += file ? fs.readFileSync(dir + "/" + file, "utf8") : "(no license file in the package; license: " + pkg.license + ")\n";
  }
  fs.writeFileSync(process.argv[1], text);
' "$out/THIRD_PARTY_LICENSES"
cat > "$out/VERSION" <<TXT
sucrase $version (MIT, https://github.com/alangpierce/sucrase), bundled with esbuild $esbuild_version
by scripts/vendor-sucrase.sh; transforms: ["typescript"], disableESTransforms: true.
TXT
echo "wrote $out/sucrase.js ($(wc -c < "$out/sucrase.js") bytes)"
