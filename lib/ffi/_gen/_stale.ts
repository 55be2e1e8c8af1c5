// The directories the generator owns hold what it produced this run and nothing else: a file in one of
// them that no stage produced any more (a bundle whose entry left SCRIPT_BUNDLES, an object module whose
// class went away) is stale. `deno task gen` removes it; `deno task gen:check` names it and fails, as it
// does for a file that is out of date. Without this a stale file stayed, still importable and still
// type-checked, and gen:check passed.

/**
 * The files directly in `dir` (repository-relative, with a trailing slash) that are not in `produced`
 * (repository-relative paths), sorted; none when the directory does not exist.
 */
export async function staleFiles(root: URL, dir: string, produced: Iterable<string>): Promise<string[]> {
  const keep = new Set(produced);
  const stale: string[] = [];
  try {
    for await (const entry of Deno.readDir(new URL(dir, root))) {
      const path = `${dir}${entry.name}`;
      if (!keep.has(path)) stale.push(path);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return stale.sort();
}

/**
 * Removes the stale files of `dir` (gen), or with `check` names them on stderr (gen:check).
 *
 * @returns the stale paths (with `check`: a nonzero count fails the check)
 */
export async function pruneStale(
  root: URL,
  dir: string,
  produced: Iterable<string>,
  check: boolean,
): Promise<string[]> {
  const stale = await staleFiles(root, dir, produced);
  for (const path of stale) {
    if (check) {
      console.error(
        `${path}: no longer generated (nothing in the generator produces it); run "deno task gen", which removes it, and commit`,
      );
    } else if (/\.(ts|js)$/.test(path) && (await Deno.lstat(new URL(path, root))).isFile) {
      // only what a stage could have written: anything else (a README, a directory) is not the
      // generator's to delete, and stays a stale entry that gen:check keeps failing on
      await Deno.remove(new URL(path, root));
      console.log(`Removed ${path}: no longer generated`);
    } else {
      console.error(`${path}: not a generated module; the generator removes only .ts and .js files: move it`);
    }
  }
  return stale;
}
