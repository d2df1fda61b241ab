// Before `npm pack`/`npm publish`: the package ships the repository's README, LICENSE and CHANGELOG.
import { copyFileSync } from "node:fs";
import { URL } from "node:url";

for (const file of ["README.md", "LICENSE", "CHANGELOG.md"]) {
  copyFileSync(new URL(`../../../${file}`, import.meta.url), new URL(`../${file}`, import.meta.url));
}
