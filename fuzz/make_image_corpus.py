#!/usr/bin/python3
"""Writes fuzz/corpus/image/: small PNGs and JPEGs in the variants the
decoders take different paths for (grey, grey+alpha, RGB, RGBA, palette,
16-bit, interlaced; baseline, progressive, grey and CMYK JPEG), plus a
truncated one of each kind.  Needs Debian's python3-pil; the output is
committed, so the fuzzer itself needs neither.

    /usr/bin/python3 fuzz/make_image_corpus.py [DIR]
"""
import io
import os
import sys

from PIL import Image


def pattern(mode, w, h):
    img = Image.new(mode, (w, h))
    bands = len(img.getbands())
    img.putdata([tuple((x * 37 + y * 11 + b * 70) % 256 for b in range(bands)) if bands > 1
                 else (x * 37 + y * 11) % 256 for y in range(h) for x in range(w)])
    return img


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "image")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    for mode in ("L", "LA", "RGB", "RGBA"):
        buf = io.BytesIO()
        pattern(mode, 7, 5).save(buf, "PNG")
        seeds[f"{mode.lower()}.png"] = buf.getvalue()
    buf = io.BytesIO()
    pattern("RGB", 6, 6).convert("P", palette=Image.ADAPTIVE, colors=8).save(buf, "PNG")
    seeds["palette.png"] = buf.getvalue()
    buf = io.BytesIO()
    Image.frombytes("I;16", (4, 3), bytes(range(24))).save(buf, "PNG")
    seeds["grey16.png"] = buf.getvalue()
    buf = io.BytesIO()
    pattern("RGB", 9, 9).save(buf, "PNG", interlace=1)
    seeds["interlaced.png"] = buf.getvalue()
    for name, mode, kw in (("rgb.jpg", "RGB", {}), ("grey.jpg", "L", {}),
                           ("progressive.jpg", "RGB", {"progressive": True}),
                           ("cmyk.jpg", "CMYK", {}), ("subsampled.jpg", "RGB", {"subsampling": 2})):
        buf = io.BytesIO()
        pattern(mode, 10, 6).save(buf, "JPEG", quality=90, **kw)
        seeds[name] = buf.getvalue()
    seeds["cut.png"] = seeds["rgb.png"][:60]
    seeds["cut.jpg"] = seeds["rgb.jpg"][: len(seeds["rgb.jpg"]) // 2]
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"make_image_corpus: {len(seeds)} seeds in {out}")


if __name__ == "__main__":
    main()
