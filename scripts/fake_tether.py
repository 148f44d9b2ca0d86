#!/usr/bin/env python3
"""A fake tethering program: writes camera files into a folder the way
Canon EOS Utility, Nikon Camera Control, digiCamControl or
`gphoto2 --capture-tethered` do, so the station's hot-folder ingest is
tested against files it did not make (Pillow's libjpeg, real EXIF).

    fake_tether.py --dir DIR --scenario NAME [--seed N] [--source IMG] [--name STEM]

Scenarios (each writes, then exits; the caller watches what the station does):
  chunks    one JPEG written under its final name in 8 pieces over a second
  tmp       one JPEG written as NAME.JPG.tmp in pieces, then renamed
  rawjpeg   a RAW (.CR3, random bytes) then its JPEG, same stem
  burst     three JPEGs, 0.4 s apart
  big       one 6000x4000 (24 MP) JPEG, renamed into place
  corrupt   one JPEG with a block of garbage inside its image data
  notimage  a text file and an .xmp sidecar
  orient6   a portrait stored sideways with EXIF orientation 6
Prints one line per file written: its name and SHA-256.
"""
import argparse
import hashlib
import io
import os
import random
import sys
import time

from PIL import Image, ImageEnhance


def portrait(source, size, rng):
    """The source portrait filling `size`, its position and light varied."""
    img = Image.open(source).convert("RGB")
    w, h = size
    # Cover the target, then shift the crop window a little.
    scale = max(w / img.width, h / img.height) * rng.uniform(1.0, 1.12)
    img = img.resize((max(w, int(img.width * scale)), max(h, int(img.height * scale))), Image.LANCZOS)
    x = rng.randint(0, img.width - w)
    y = rng.randint(0, max(0, (img.height - h) // 3))
    img = img.crop((x, y, x + w, y + h))
    return ImageEnhance.Brightness(img).enhance(rng.uniform(0.85, 1.15))


def encode(img, orientation=1, quality=92, note=""):
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "Canon EOS R6 (fake tether)"  # Model
    if note:
        exif[0x010E] = note  # ImageDescription: every shot's bytes its own
    img.save(out, "JPEG", quality=quality, exif=exif.tobytes(), subsampling=0)
    return out.getvalue()


def announce(name, data):
    print(f"{name} {hashlib.sha256(data).hexdigest()}", flush=True)


def write_in_pieces(path, data, pieces=8, seconds=1.0):
    with open(path, "wb") as f:
        step = -(-len(data) // pieces)
        for i in range(0, len(data), step):
            f.write(data[i : i + step])
            f.flush()
            time.sleep(seconds / pieces)


def write_tmp_then_rename(directory, name, data, pieces=4, seconds=0.5):
    tmp = os.path.join(directory, name + ".tmp")
    write_in_pieces(tmp, data, pieces, seconds)
    os.replace(tmp, os.path.join(directory, name))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--source", required=True, help="a real portrait to shoot")
    ap.add_argument("--name", default="IMG_0001", help="file stem (a burst counts up from it)")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    d = a.dir
    os.makedirs(d, exist_ok=True)
    stem = a.name
    shot = lambda size, **kw: encode(portrait(a.source, size, rng), note=f"{stem} {a.seed} {rng.random()}", **kw)

    if a.scenario == "chunks":
        data = shot((1800, 1200))
        write_in_pieces(os.path.join(d, stem + ".JPG"), data)
        announce(stem + ".JPG", data)
    elif a.scenario == "tmp":
        data = shot((1800, 1200))
        write_tmp_then_rename(d, stem + ".JPG", data)
        announce(stem + ".JPG", data)
    elif a.scenario == "rawjpeg":
        raw = rng.randbytes(2_000_000)
        write_tmp_then_rename(d, stem + ".CR3", raw)
        announce(stem + ".CR3", raw)
        data = shot((1800, 1200))
        write_tmp_then_rename(d, stem + ".JPG", data)
        announce(stem + ".JPG", data)
    elif a.scenario == "burst":
        base = int(stem[-4:]) if stem[-4:].isdigit() else 1
        prefix = stem[:-4] if stem[-4:].isdigit() else stem + "_"
        for i in range(3):
            name = f"{prefix}{base + i:04d}.JPG"
            data = shot((1800, 1200))
            write_tmp_then_rename(d, name, data, pieces=2, seconds=0.1)
            announce(name, data)
            time.sleep(0.3)
    elif a.scenario == "big":
        data = shot((6000, 4000), quality=95)
        write_tmp_then_rename(d, stem + ".JPG", data, pieces=6, seconds=0.3)
        announce(stem + ".JPG", data)
    elif a.scenario == "corrupt":
        data = bytearray(shot((1800, 1200)))
        sos = data.rfind(b"\xff\xda")
        mid = sos + (len(data) - sos) // 3
        data[mid : mid + 4096] = rng.randbytes(4096)
        data = bytes(data)
        write_tmp_then_rename(d, stem + ".JPG", data)
        announce(stem + ".JPG", data)
    elif a.scenario == "notimage":
        for name, text in [(stem + ".txt", b"shot log\n"), (stem + ".xmp", b"<x:xmpmeta/>\n")]:
            with open(os.path.join(d, name), "wb") as f:
                f.write(text)
            announce(name, text)
    elif a.scenario == "orient6":
        upright = portrait(a.source, (1200, 1800), rng)
        # Stored as the sensor saw it with the camera on its side: turned a
        # quarter to the left; the tag says turn it a quarter right to show it.
        data = encode(upright.transpose(Image.ROTATE_90), orientation=6, note=f"{stem} {a.seed}")
        write_tmp_then_rename(d, stem + ".JPG", data)
        announce(stem + ".JPG", data)
    else:
        sys.exit(f"unknown scenario {a.scenario}")


if __name__ == "__main__":
    main()
