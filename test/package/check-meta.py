#!/usr/bin/env python3
"""Release metadata checks: META.json against the PGXN Meta Spec 1.0.0 (the
required fields and the shapes of the ones we use, from pgxn/meta's v1
schema), and the version, written once in facecompare.control, agreeing with
the places that must repeat it (META.json, debian/changelog).  With --zip,
also the `make dist` zip.  Prints "ok - ..." / "not ok - ..." lines; exits 1
on any failure.  No network, only the standard library."""

import json
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# semver.org's suggested expression, as the v1 schema's version.schema.json.
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")
VERSION_RANGE = re.compile(r"^((([=!]=|[<>]=?)\s*)?(" + SEMVER.pattern[1:-1] + r"|0))"
                           r"(,\s*(([=!]=|[<>]=?)\s*)?" + SEMVER.pattern[1:-1] + r")*$")
TERM = re.compile(r"^[^/\\\s\x00-\x1f\x7f]{2,}$")
LICENSES = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd",
            "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit",
            "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay",
            "sun", "zlib", "open_source", "restricted", "unrestricted", "unknown"}
REQUIRED = ["name", "version", "abstract", "maintainer", "license", "provides", "meta-spec"]
KNOWN = set(REQUIRED) | {"description", "generated_by", "tags", "no_index", "prereqs",
                         "release_status", "resources"}
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}

results = []


def check(ok, what):
    results.append(bool(ok))
    print(("ok" if ok else "not ok") + " - " + what)
    return ok


def nonempty_str(v):
    return isinstance(v, str) and v != ""


def ext_keys(d):
    """Keys beyond the spec's: only x_/X_ ones are allowed."""
    return [k for k in d if not re.match(r"^[xX]_.", k)]


def check_meta(meta, control_version, label):
    check(isinstance(meta, dict), f"{label}: is a JSON object")
    if not isinstance(meta, dict):
        return
    missing = [k for k in REQUIRED if k not in meta]
    check(not missing, f"{label}: has the required fields" + (f" (missing {missing})" if missing else ""))
    unknown = [k for k in ext_keys(meta) if k not in KNOWN]
    check(not unknown, f"{label}: no fields outside the spec" + (f" ({unknown})" if unknown else ""))
    check(isinstance(meta.get("name"), str) and TERM.match(meta["name"]), f"{label}: name is a term")
    check(nonempty_str(meta.get("abstract")), f"{label}: abstract is a non-empty string")
    m = meta.get("maintainer")
    check(nonempty_str(m) or (isinstance(m, list) and m and all(nonempty_str(x) for x in m)
                              and len(set(m)) == len(m)),
          f"{label}: maintainer is a string or a list of them")
    lic = meta.get("license")
    check((isinstance(lic, str) and lic in LICENSES)
          or (isinstance(lic, list) and lic and all(x in LICENSES for x in lic))
          or (isinstance(lic, dict) and lic and all(nonempty_str(v) for v in lic.values())),
          f"{label}: license is one the spec names (or a name -> URL map)")
    version = meta.get("version")
    check(isinstance(version, str) and SEMVER.match(version), f"{label}: version is a semantic version")
    check(version == control_version,
          f"{label}: version {version} is facecompare.control's default_version {control_version}")
    provides = meta.get("provides")
    ok = isinstance(provides, dict) and provides
    check(ok, f"{label}: provides names at least one extension")
    for ext, p in (provides.items() if ok else []):
        fields_ok = (isinstance(p, dict) and "file" in p and "version" in p
                     and not [k for k in ext_keys(p) if k not in {"file", "version", "abstract", "docfile", "docpath"}])
        check(fields_ok, f"{label}: provides.{ext} has file and version, nothing else but abstract/docfile/docpath")
        if not fields_ok:
            continue
        check(p["version"] == control_version, f"{label}: provides.{ext}.version is {control_version}")
        for key in ("file", "docfile"):
            if key in p:
                check((ROOT / p[key]).is_file(), f"{label}: provides.{ext}.{key} {p[key]} exists")
    spec = meta.get("meta-spec")
    check(isinstance(spec, dict) and isinstance(spec.get("version"), str)
          and re.match(r"^1\.0\.\d+$", spec["version"])
          and spec.get("url", "https://pgxn.org/meta/spec.txt") in ("https://pgxn.org/meta/spec.txt",
                                                                   "http://pgxn.org/meta/spec.txt"),
          f"{label}: meta-spec is version 1.0.x")
    prereqs = meta.get("prereqs")
    if prereqs is not None:
        shape = isinstance(prereqs, dict) and prereqs and all(
            ph in PHASES and isinstance(rel, dict) and rel and all(
                r in RELATIONS and isinstance(deps, dict) and deps and all(
                    TERM.match(n) and isinstance(v, str) and VERSION_RANGE.match(v) for n, v in deps.items())
                for r, deps in rel.items())
            for ph, rel in prereqs.items())
        check(shape, f"{label}: prereqs are phase -> relationship -> name -> version range")
        pg = (prereqs.get("runtime", {}).get("requires", {}).get("PostgreSQL") if shape else None)
        check(pg is not None and re.match(r"^(>=\s*)?15\.0\.0$", pg),
              f"{label}: needs PostgreSQL 15.0.0 or later at run time")
    res = meta.get("resources")
    if res is not None:
        check(isinstance(res, dict) and res and not [k for k in ext_keys(res)
                                                    if k not in {"homepage", "bugtracker", "repository"}]
              and ("bugtracker" not in res or (isinstance(res["bugtracker"], dict)
                                               and ({"web", "mailto"} & set(res["bugtracker"])))),
              f"{label}: resources are homepage, bugtracker and/or repository")
    if "release_status" in meta:
        check(meta["release_status"] in ("stable", "testing", "unstable"), f"{label}: release_status is valid")


def control_version():
    m = re.search(r"^default_version = '([^']+)'$", (ROOT / "facecompare.control").read_text(), re.M)
    return m.group(1) if m else None


def main(argv):
    version = control_version()
    check(version is not None, "facecompare.control has a default_version")
    meta_text = (ROOT / "META.json").read_text()
    try:
        meta = json.loads(meta_text)
    except ValueError as e:
        check(False, f"META.json parses as JSON: {e}")
        meta = None
    if meta is not None:
        check_meta(meta, version, "META.json")
    # Debian versions are UPSTREAM-REVISION; the newest entry is the first line.
    changelog = ROOT / "debian" / "changelog"
    if changelog.is_file():
        m = re.match(r"^facecompare \(([^)]+)-[^-)]+\) ", changelog.read_text())
        check(m and m.group(1) == version,
              f"debian/changelog's upstream version {m.group(1) if m else '?'} is {version}")
    if len(argv) == 2 and argv[0] == "--zip":
        zip_path = Path(argv[1])
        prefix = f"facecompare-{version}/"
        check(zip_path.name == f"facecompare-{version}.zip", f"the zip is named {prefix[:-1]}.zip")
        with zipfile.ZipFile(zip_path) as z:
            names = z.namelist()
            check(names and all(n.startswith(prefix) for n in names), f"every file in the zip is under {prefix}")
            check(f"{prefix}META.json" in names
                  and z.read(f"{prefix}META.json").decode() == meta_text,
                  "the zip has this META.json at its root directory")
            wanted = ["facecompare.control", "Makefile", "version.mk", "sql/facecompare--0.1.0.sql", "src/facecompare.c"]
            absent = [w for w in wanted if prefix + w not in names]
            check(not absent, "the zip holds the sources make install needs" + (f" (missing {absent})" if absent else ""))
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
