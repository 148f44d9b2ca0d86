#!/usr/bin/env python3
"""Compare gradcap's QR decoder with zxing-cpp on a folder of frames.

Samples
-------
Every image (png, jpg, jpeg, gif, bmp, pgm) under DIR and its sub-folders,
with its expected text in ``NAME.txt`` beside it (``*.metadata.txt`` and
``*.result.txt`` belong to no image and are ignored). An image without a
``.txt``, or with an empty one, is a no-code frame: any text decoded there is a
false positive, and its time is reported apart. A ``NAME.json`` sidecar (as
written by ``scripts/field_frames.py``) gives the frame's conditions, which are
binned per condition; folders (ZXing's blackbox ``qrcode-N``) are reported
per folder.

A text is correct when it equals ``NAME.txt`` after CRLF -> LF and trimming
surrounding whitespace; with several codes found, when any of them does.

Decoders
--------
* zxing-cpp (module ``zxingcpp``), QR Code only, in this process (it runs on
  the calling thread; text mode Plain): ``ms`` = open with Pillow + convert to grey + decode;
  ``decode_ms`` = decode only, on the preloaded grey array (median of
  ``--repeat`` runs). One untimed warm-up decode comes first.
* gradcap: ``GRADCAP decode --raw --json FOLDER...`` once over every folder
  holding samples, one JSON object per line; its ``ms`` (reading the image
  file and decoding) is used, and its ``decode_ms`` too when present.
  ``--gradcap none`` skips it.

Usage
-----
    python3 scripts/decode_compare.py /tmp/field-seed1 --gradcap target/release/gradcap --json-out /tmp/cmp.json
    python3 scripts/decode_compare.py /work/shared/testdata/zxing-qrcode --gradcap none

Needs: pip install --user numpy pillow zxing-cpp (tested with zxing-cpp 3.1.1,
numpy 2.4.6, Pillow 13.0.0, Python 3.11.7).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".pgm"}
REPO = Path(__file__).resolve().parent.parent

# (key, label, value from the sidecar, bin edges or None for categorical)
CONDITIONS = [
    ("resolution", "resolution", lambda m: f"{m['width']}x{m['height']}", None),
    ("side", "code side % of height", lambda m: 100 * m["code_side_frac"], [28, 37, 46, 55]),
    ("rotation", "abs(rotation) deg", lambda m: abs(m["rotation_deg"]), [0, 12, 24, 35]),
    ("perspective", "perspective shortening %", lambda m: 100 * m["perspective_shortening"], [0, 8, 16, 25]),
    ("brightness", "brightness %", lambda m: 100 * m["brightness"], [45, 63, 82, 100]),
    ("glare", "glare", lambda m: "yes" if m["glare"] else "no", None),
    ("blur", "blur sigma", lambda m: m["blur_sigma"], [0.3, 0.7, 1.1, 1.6]),
    ("noise", "noise sigma", lambda m: m["noise_sigma"], [2, 4.3, 6.7, 9]),
    ("version", "QR version", lambda m: m["qr_version"], None),
]


def norm(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def find_samples(roots: list[Path]) -> list[dict]:
    samples = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix.lower() not in IMAGE_EXTENSIONS:
                continue
            txt, side = path.with_suffix(".txt"), path.with_suffix(".json")
            expected = norm(read_text(txt)) if txt.is_file() else ""
            meta = None
            if side.is_file():
                try:
                    meta = json.loads(side.read_text(encoding="utf-8"))
                except ValueError:
                    meta = None
            group = path.parent.relative_to(root).as_posix()
            if len(roots) > 1:
                group = f"{root.name}/{group}"
            samples.append({
                "file": str(path),
                "name": path.relative_to(root).as_posix(),
                "group": group,
                "expected": expected or None,  # None: a no-code frame
                "meta": meta,
            })
    return samples


def judge(sample: dict, texts: list[str]) -> dict:
    texts = [norm(t) for t in texts]
    if sample["expected"] is None:
        return {"correct": None, "false_positive": bool(texts)}
    return {"correct": sample["expected"] in texts, "false_positive": False}


# ---------------------------------------------------------------- decoders


def zxing_version(zxingcpp) -> str:
    try:
        return metadata.version("zxing-cpp")
    except metadata.PackageNotFoundError:
        return str(getattr(zxingcpp, "__version__", "unknown"))


def run_zxing(samples: list[dict], repeat: int) -> tuple[dict, str]:
    import zxingcpp

    qr = zxingcpp.BarcodeFormat.QRCode
    # Plain: the symbol's text as is (the default HRI spells control
    # characters as "<SOH>"); detection and timing are the same.
    plain = getattr(getattr(zxingcpp, "TextMode", None), "Plain", None)
    extra = {"text_mode": plain} if plain is not None else {}

    def load(path):
        with Image.open(path) as img:
            return np.ascontiguousarray(np.asarray(img.convert("L")))

    def read(grey):
        return zxingcpp.read_barcodes(grey, formats=qr, **extra)

    if samples:  # warm-up, untimed
        read(load(samples[0]["file"]))
    out = {}
    for s in samples:
        t0 = time.perf_counter()
        grey = load(s["file"])
        found = read(grey)
        t1 = time.perf_counter()
        only = []
        for _ in range(max(1, repeat)):
            t2 = time.perf_counter()
            read(grey)
            only.append((time.perf_counter() - t2) * 1e3)
        texts = [b.text for b in found]
        out[s["file"]] = {"texts": texts, "ms": (t1 - t0) * 1e3, "decode_ms": statistics.median(only),
                          "error": None, **judge(s, texts)}
    return out, zxing_version(zxingcpp)


def resolve_gradcap(arg: str) -> Path | None:
    if arg.lower() == "none":
        return None
    p = Path(arg)
    if not p.is_file() and not p.is_absolute() and (REPO / p).is_file():
        p = REPO / p
    if not p.is_file():
        sys.exit(f"gradcap binary not found: {arg} (build it, pass --gradcap PATH, or --gradcap none)")
    return p


def run_gradcap(gradcap: Path, samples: list[dict]) -> tuple[dict, dict]:
    folders = sorted({str(Path(s["file"]).parent) for s in samples})
    cmd = [str(gradcap), "decode", "--raw", "--json", *folders]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    reported = {}
    for line in proc.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if "file" in obj:
            reported[os.path.realpath(obj["file"])] = obj
    out = {}
    for s in samples:
        obj = reported.get(os.path.realpath(s["file"]))
        if obj is None:
            texts, entry = [], {"ms": None, "decode_ms": None, "error": "not reported by gradcap"}
        else:
            texts = obj.get("texts") or ([obj["text"]] if obj.get("text") is not None else [])
            entry = {"ms": obj.get("ms"), "decode_ms": obj.get("decode_ms"), "error": obj.get("error")}
        out[s["file"]] = {"texts": texts, **entry, **judge(s, texts)}
    version = None
    try:
        version = subprocess.run([str(gradcap), "--version"], capture_output=True, text=True,
                                 timeout=20).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    info = {"path": str(gradcap), "version": version, "command": cmd[:4] + ["FOLDER..."],
            "exit_code": proc.returncode, "wall_s": round(wall, 3), "stderr_tail": proc.stderr[-2000:]}
    return out, info


# ---------------------------------------------------------------- statistics


def pct(values, q):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    k = (len(v) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def summary(samples, results) -> dict:
    code = [s for s in samples if s["expected"] is not None]
    none = [s for s in samples if s["expected"] is None]
    r = [results[s["file"]] for s in code]
    n = [results[s["file"]] for s in none]
    ok = sum(1 for x in r if x["correct"])
    out = {
        "count": len(code), "correct": ok, "rate": ok / len(code) if code else None,
        "median_ms": pct([x["ms"] for x in r], 50), "p90_ms": pct([x["ms"] for x in r], 90),
        "median_decode_ms": pct([x["decode_ms"] for x in r], 50),
        "p90_decode_ms": pct([x["decode_ms"] for x in r], 90),
        "no_code_count": len(none),
        "no_code_median_ms": pct([x["ms"] for x in n], 50),
        "no_code_median_decode_ms": pct([x["decode_ms"] for x in n], 50),
        "false_positives": sum(1 for x in n if x["false_positive"]),
    }
    return out


def bin_label(value, edges):
    if edges is None:
        return str(value)
    if value < edges[0]:
        return f"<{edges[0]:g}"
    for lo, hi in zip(edges, edges[1:]):
        if value < hi or (hi == edges[-1] and value <= hi):
            return f"{lo:g}-{hi:g}"
    return f">{edges[-1]:g}"


def bin_order(label, edges):
    if edges is None:
        try:
            return (0, float(label.split("x")[-1]) if "x" in label else float(label), label)
        except ValueError:
            return (1, 0.0, label)
    if label.startswith("<"):
        return (0, -1e9, label)
    if label.startswith(">"):
        return (0, 1e9, label)
    return (0, float(label.split("-")[0]), label)


def per_condition(samples, decoders) -> dict:
    code = [s for s in samples if s["expected"] is not None and s["meta"]]
    table = {}
    for key, label, get, edges in CONDITIONS:
        bins = {}
        for s in code:
            try:
                b = bin_label(get(s["meta"]), edges)
            except (KeyError, TypeError):
                continue
            bins.setdefault(b, []).append(s)
        if not bins:
            continue
        rows = []
        for b in sorted(bins, key=lambda x: bin_order(x, edges)):
            row = {"bin": b, "n": len(bins[b])}
            for name, res in decoders.items():
                row[name] = sum(1 for s in bins[b] if res[s["file"]]["correct"])
            rows.append(row)
        table[key] = {"label": label, "rows": rows}
    return table


def per_folder(samples, decoders) -> list[dict]:
    groups = {}
    for s in samples:
        groups.setdefault(s["group"], []).append(s)
    rows = []
    for g in sorted(groups):
        row = {"folder": g}
        for name, res in decoders.items():
            row[name] = summary(groups[g], res)
        rows.append(row)
    return rows


def missed(samples, results) -> list[dict]:
    out = []
    for s in samples:
        r = results[s["file"]]
        if s["expected"] is None:
            if r["false_positive"]:
                out.append({"file": s["name"], "why": "false positive on a no-code frame",
                            "texts": [t[:60] for t in r["texts"]]})
        elif not r["correct"]:
            why = r["error"] or ("wrong text" if r["texts"] else "nothing found")
            out.append({"file": s["name"], "why": why, "texts": [t[:60] for t in r["texts"]]})
    return out


# ---------------------------------------------------------------- report


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def frac(k, n):
    return f"{k}/{n} ({100 * k / n:.0f}%)" if n else "-"


def print_report(samples, decoders, summaries, conditions, folders, misses, ratios, info):
    print(f"# Decoder comparison: {', '.join(info['roots'])}\n")
    print(f"zxing-cpp {info['zxing_cpp_version']}" + (f"; gradcap {info['gradcap']['path']}"
          f" ({info['gradcap'].get('version') or 'version unknown'})" if info.get("gradcap") else "; gradcap skipped"))
    print()
    print("| decoder | correct | median ms | p90 ms | median decode-only ms | p90 decode-only ms "
          "| no-code n | no-code median ms | no-code false pos |")
    print("|---|---|---|---|---|---|---|---|---|")
    timing = {"zxing-cpp": "load+grey+decode; decode-only on the grey array",
              "gradcap": "read file+decode (its ms); decode_ms if it reports one"}
    for name, s in summaries.items():
        print(f"| {name} | {frac(s['correct'], s['count'])} | {fmt(s['median_ms'])} | {fmt(s['p90_ms'])} "
              f"| {fmt(s['median_decode_ms'])} | {fmt(s['p90_decode_ms'])} | {s['no_code_count']} "
              f"| {fmt(s['no_code_median_ms'])} | {s['false_positives']} |")
    print()
    for name in summaries:
        print(f"- {name} timing: {timing[name]}")
    if ratios:
        print(f"- gradcap/zxing-cpp: rate {fmt(ratios.get('rate'), 3)}, median ms {fmt(ratios.get('median_ms'), 2)}"
              + (f", median decode-only ms {fmt(ratios['median_decode_ms'], 2)}" if ratios.get("median_decode_ms")
                 else ""))
    print()

    if conditions:
        names = list(decoders)
        print("## Per condition (frames with a code)\n")
        print("| condition | bin | n | " + " | ".join(names) + " |")
        print("|---|---|---|" + "---|" * len(names))
        for cond in conditions.values():
            for i, row in enumerate(cond["rows"]):
                cells = " | ".join(frac(row[n], row["n"]) for n in names)
                print(f"| {cond['label'] if i == 0 else ''} | {row['bin']} | {row['n']} | {cells} |")
        print()

    if len(folders) > 1 or not conditions:
        names = list(decoders)
        print("## Per folder\n")
        print("| folder | " + " | ".join(f"{n} correct | {n} median ms" for n in names) + " |")
        print("|---|" + "---|---|" * len(names))
        for row in folders:
            cells = " | ".join(f"{frac(row[n]['correct'], row[n]['count'])} | {fmt(row[n]['median_ms'])}"
                               for n in names)
            print(f"| {row['folder']} | {cells} |")
        print()

    print("## Missed\n")
    for name, rows in misses.items():
        print(f"**{name}** ({len(rows)})" + (":" if rows else ": none"))
        for m in rows:
            shown = f" -> {m['texts']}" if m["texts"] and m["why"] != "nothing found" else ""
            print(f"- {m['file']}: {m['why']}{shown}")
        print()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="folder(s) of frames")
    ap.add_argument("--gradcap", default="target/release/gradcap",
                    help="gradcap binary (relative paths also tried from the repo root); 'none' skips it")
    ap.add_argument("--json-out", type=Path, help="write everything here as JSON")
    ap.add_argument("--repeat", type=int, default=1, help="zxing-cpp decode-only runs per frame (median)")
    args = ap.parse_args(argv)

    for d in args.dirs:
        if not d.is_dir():
            sys.exit(f"not a folder: {d}")
    gradcap = resolve_gradcap(args.gradcap)
    samples = find_samples(args.dirs)
    if not samples:
        sys.exit("no images found")

    decoders, info = {}, {"roots": [str(d) for d in args.dirs], "python": platform.python_version(),
                          "machine": platform.machine(), "cpu_count": os.cpu_count()}
    decoders["zxing-cpp"], info["zxing_cpp_version"] = run_zxing(samples, args.repeat)
    if gradcap is not None:
        decoders["gradcap"], info["gradcap"] = run_gradcap(gradcap, samples)

    summaries = {name: summary(samples, res) for name, res in decoders.items()}
    ratios = {}
    if "gradcap" in summaries:
        g, z = summaries["gradcap"], summaries["zxing-cpp"]
        ratios["rate"] = g["rate"] / z["rate"] if g["rate"] is not None and z["rate"] else None
        ratios["median_ms"] = g["median_ms"] / z["median_ms"] if g["median_ms"] and z["median_ms"] else None
        if g["median_decode_ms"] and z["median_decode_ms"]:
            ratios["median_decode_ms"] = g["median_decode_ms"] / z["median_decode_ms"]
    conditions = per_condition(samples, decoders)
    folders = per_folder(samples, decoders)
    misses = {name: missed(samples, res) for name, res in decoders.items()}

    print_report(samples, decoders, summaries, conditions, folders, misses, ratios, info)

    if args.json_out:
        per_sample = []
        for s in samples:
            row = {k: s[k] for k in ("file", "name", "group", "expected")}
            row["meta"] = s["meta"]
            for name, res in decoders.items():
                row[name] = res[s["file"]]
            per_sample.append(row)
        doc = {"info": info, "summary": summaries, "ratios_gradcap_over_zxing": ratios,
               "per_condition": conditions, "per_folder": folders, "missed": misses, "samples": per_sample}
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"(wrote {args.json_out})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
