"""Summarise a py-spy raw profile (``py-spy record -f raw``): self and inclusive shares per function.

    py-spy record -r 500 -f raw -o spy.txt -- python bench/profile_storefront.py --no-profile
    python bench/profiles/summarize.py spy.txt [--top 30] [--skip load_catalog ...]

Samples whose stack contains a ``--skip`` word (set-up: loading the catalog, booting) are left
out, so the shares are those of the requests alone.
"""

from __future__ import annotations

import argparse
import collections
import re

SETUP = ["load_catalog", "member_token", "create_app", "from_file", "_bootstrap"]


def short(frame: str) -> str:
    match = re.match(r"(.*) \((.*?)(:\d+)?\)$", frame)
    if not match:
        return frame
    path = re.sub(r".*site-packages/|.*/lib/python3\.\d+/", "", match.group(2))
    return f"{match.group(1)} ({path})"


def summarize(path: str, top: int, skip: list[str]) -> str:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack or any(word in stack for word in skip):
                continue
            frames = [short(f) for f in stack.split(";")]
            total += int(count)
            own[frames[-1]] += int(count)
            for frame in set(frames):
                inclusive[frame] += int(count)
    out = [f"{total} samples", "-- self"]
    out += [f"{100 * n / total:5.1f}% {f}" for f, n in own.most_common(top)]
    out += ["-- inclusive"] + [f"{100 * n / total:5.1f}% {f}" for f, n in inclusive.most_common(2 * top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("raw")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--skip", nargs="*", default=SETUP)
    args = parser.parse_args()
    print(summarize(args.raw, args.top, args.skip))


if __name__ == "__main__":
    main()
