#!/usr/bin/python3
"""Write the JPEG pairs of test/bench/throughput.sh in the given folder, each
the same noisy scene at two qualities: big-a.jpg and big-b.jpg, about 500 kB
each, half-a.jpg and half-b.jpg, about 250 kB each (500 kB together), and
row-a.jpg and row-b.jpg, about 100 kB each (test/bench/rows.sh)."""
import os
import random
import sys

from PIL import Image, ImageDraw

out = sys.argv[1]
rnd = random.Random(7)
img = Image.new("RGB", (720, 960))
px = img.load()
for y in range(960):
    for x in range(720):
        base = (x * 255 // 720, y * 255 // 960, (x + y) % 256)
        px[x, y] = tuple(min(255, max(0, c + rnd.randrange(-70, 70))) for c in base)
draw = ImageDraw.Draw(img)
draw.ellipse([220, 200, 500, 560], fill=(224, 180, 150))
for quality, name in ((93, "big-a.jpg"), (92, "big-b.jpg"), (76, "half-a.jpg"), (74, "half-b.jpg"),
                      (30, "row-a.jpg"), (29, "row-b.jpg")):
    img.save(os.path.join(out, name), quality=quality)
    print(name, os.path.getsize(os.path.join(out, name)), "bytes")
