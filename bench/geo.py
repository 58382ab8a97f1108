"""Point → grid (batched and single) and address → grid at Shibei scale (940 grids, ~30 k
buildings). Targets from DESIGN.md: ≥ 250,000 lookups/s batched, ≤ 30 µs single,
≥ 5,000 addresses/s.

    .venv/bin/python bench/geo.py            # builds var/bench-shibei on first run
"""

from __future__ import annotations

import random
import time

from _common import bench_line, ensure_shibei, percentile, setup


def main() -> None:
    setup()
    ensure_shibei()
    import numpy as np

    from yiwang.geo.index import grid_index, locate
    from yiwang.geo.resolve import address_index
    from yiwang.org.models import Building, District

    index = grid_index()
    district = District.objects.get()
    minx, miny, maxx, maxy = (
        min(p[0] for p in district.boundary["coordinates"][0]),
        min(p[1] for p in district.boundary["coordinates"][0]),
        max(p[0] for p in district.boundary["coordinates"][0]),
        max(p[1] for p in district.boundary["coordinates"][0]),
    )
    print(f"# {len(index)} grids, {Building.objects.count()} buildings")
    rng = np.random.default_rng(1)

    n = 1_000_000
    lngs = rng.uniform(minx, maxx, n)
    lats = rng.uniform(miny, maxy, n)
    index.locate_many(lats[:1000], lngs[:1000])  # warm
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        out = index.locate_many(lats, lngs)
        best = max(best, n / (time.perf_counter() - t))
    assert (out >= 0).mean() > 0.999, "points inside the district must land in a grid"
    bench_line("geo.point.batched", best, "lookups/s", ">=", 250_000)

    m = 50_000
    samples = []
    for i in range(m):
        t = time.perf_counter_ns()
        locate(float(lats[i]), float(lngs[i]))  # the product's entry point, index check included
        samples.append((time.perf_counter_ns() - t) / 1000)
    bench_line("geo.point.single.mean", sum(samples) / m, "us", "<=", 30)
    bench_line("geo.point.single.p95", percentile(samples, 95), "us", "<=", 60)

    # Addresses as people type them, made from the address base: full and partial forms.
    rnd = random.Random(3)
    rows = list(
        Building.objects.values_list("road", "number", "compound", "building_no", "grid_id")
    )
    grid_street = dict(Building.objects.values_list("grid_id", "grid__street__name").distinct())
    forms = []
    for _ in range(20_000):
        road, number, compound, building_no, grid_id = rnd.choice(rows)
        unit, room = rnd.randint(1, 4), f"{rnd.randint(1, 18)}0{rnd.randint(1, 4)}"
        style = rnd.random()
        if style < 0.3:
            text = f"青岛市市北区{road}{number}号{compound}{building_no and building_no + '号楼'}{unit}单元{room}室"
        elif style < 0.5:
            text = f"{grid_street[grid_id]}{road}{number}号{compound}"
        elif style < 0.7:
            text = f"市北区 {road} {number}号 {compound}{building_no and building_no + '栋'}"
        elif style < 0.85:
            text = f"{road}{number}号".translate(
                str.maketrans("0123456789", "０１２３４５６７８９")
            )
        else:
            text = f"{road}{number}号{compound}门口早晨7点左右有人占道经营"
        forms.append((text, grid_id))
    address_index()  # build once, as a long-running process has it
    t = time.perf_counter()
    right = resolved = 0
    for text, grid_id in forms:
        r = address_index().resolve(text)
        if r.grid_id is not None:
            resolved += 1
            right += r.grid_id == grid_id
    rate = len(forms) / (time.perf_counter() - t)
    bench_line("geo.address.rate", rate, "addresses/s", ">=", 5_000)
    bench_line("geo.address.resolved", 100 * resolved / len(forms), "%", ">=", 95)
    bench_line("geo.address.wrong_grid", 100 * (resolved - right) / len(forms), "%", "<=", 0.1)


if __name__ == "__main__":
    main()
