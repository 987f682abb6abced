// Copies the Swagger UI files the service needs from swagger-ui-dist into the
// Python package, so that `pip install` ships them and /api/docs works offline.
// Run with `npm run swagger` after changing the swagger-ui-dist version.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "..", "node_modules", "swagger-ui-dist");
const target = join(here, "..", "..", "src", "interlace", "service", "static", "swagger");

// Source maps are not shipped; the references to them are removed so that
// browsers do not request files that do not exist.
const stripped = ["swagger-ui-bundle.js", "swagger-ui.css"];
const copied = [
  "swagger-ui-bundle.js.LICENSE.txt",
  "favicon-32x32.png",
  "favicon-16x16.png",
  "LICENSE",
  "NOTICE",
];
const sourceMap = /\n?(\/\/# sourceMappingURL=\S+|\/\*# sourceMappingURL=\S+ ?\*\/)\s*$/;

mkdirSync(target, { recursive: true });
for (const name of stripped) {
  const text = readFileSync(join(source, name), "utf8");
  writeFileSync(join(target, name), text.replace(sourceMap, "\n"));
}
for (const name of copied) {
  copyFileSync(join(source, name), join(target, name));
}
const version = JSON.parse(readFileSync(join(source, "package.json"), "utf8")).version;
writeFileSync(join(target, "VERSION"), `swagger-ui-dist ${version}\n`);
console.log(`copied swagger-ui-dist ${version} to ${target}`);
