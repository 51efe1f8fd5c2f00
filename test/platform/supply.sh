# Supply-chain tools for sbom-and-sign's tests: cosign from Debian's unstable suite (the independent
# verifier), syft and trivy built from their Go modules, and a trivy database built by trivy-db from the
# fixture advisories in test/fixtures/advisories (the real database cannot be downloaded here).
# Sourced by up.sh after cluster.sh (for go_tools). Stable paths: $DS_CACHE/tools/<name>.

DS_TOOLS="$DS_CACHE/tools"
DS_TRIVY_CACHE="$DS_CACHE/trivy"

supply_tools() {
  unstable_fetch cosign
  local syft trivy
  syft=$(go_tools syft)
  trivy=$(go_tools trivy)
  mkdir -p "$DS_TOOLS"
  ln -sfn "$(unstable_root)/usr/bin/cosign" "$DS_TOOLS/cosign"
  ln -sfn "$syft/syft" "$DS_TOOLS/syft"
  ln -sfn "$trivy/trivy" "$DS_TOOLS/trivy"
  ln -sfn "$trivy/trivy-db" "$DS_TOOLS/trivy-db"
  "$DS_TOOLS/cosign" version >/dev/null 2>&1 || die "cosign from unstable does not run"
  trivy_database
}

# Rebuilt when the fixture advisories change; trivy reads it from $DS_TRIVY_CACHE/db.
trivy_database() {
  local fixtures="$here/../fixtures/advisories" hash work
  hash=$(cd "$fixtures" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  [ "$(cat "$DS_TRIVY_CACHE/db/.fixtures" 2>/dev/null)" = "$hash" ] && return 0
  log "building the trivy database from the fixture advisories"
  work=$(mktemp -d)
  # The ghsa source also maps Swift advisories through CocoaPods specs; an empty tree is enough.
  mkdir -p "$work/ghsa/advisories" "$work/cocoapods-specs/Specs"
  cp -r "$fixtures/ghsa" "$work/ghsa/advisories/github-reviewed"
  # trivy-db lists Go's standard packages when it starts: it needs the go command on PATH.
  "$DS_TOOLS/trivy-db" build --cache-dir "$work" --output-dir "$work/out" --only-update ghsa >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; die "trivy-db build failed"; }
  mkdir -p "$DS_TRIVY_CACHE/db"
  cp "$work/out/trivy.db" "$work/out/metadata.json" "$DS_TRIVY_CACHE/db/"
  printf '%s\n' "$hash" > "$DS_TRIVY_CACHE/db/.fixtures"
  rm -rf "$work"
}
