"""Summarise a py-spy collapsed-stack profile (`py-spy record -f raw`): where the time went.

    python bench/profile_summary.py PROFILE.txt [--top N]

Prints the top functions by inclusive share (% of samples with the function anywhere on the
stack, all threads) and by self share (% of samples where it is the innermost frame), plus
the share of idle samples (threads waiting in select/epoll/queues/locks).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

_IDLE = re.compile(r"\b(select|poll|epoll|wait|_wait_for_tstate_lock|get|acquire|sleep|"
                   r"_worker|run_forever|_run_once)\b")
_FRAME = re.compile(r"^(?P<func>[^ ]+) \((?P<file>[^:]+)(?::\d+)?\)$")


def _name(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m.group("file")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m.group('func')} ({path})"


def summarise(path: str, top: int = 25) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = [_name(x) for x in stack.split(";")]
            if frames and frames[0].startswith(("process ", "thread ")):
                frames = frames[1:]
            total += n
            for name in set(frames):
                inclusive[name] += n
            if frames:
                own[frames[-1]] += n
    lines = [f"{total} samples (all threads, idle included)", "", "inclusive:"]
    for name, n in inclusive.most_common(top):
        lines.append(f"  {100 * n / total:5.1f}%  {name}")
    lines += ["", "self:"]
    for name, n in own.most_common(top):
        lines.append(f"  {100 * n / total:5.1f}%  {name}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(summarise(args.profile, args.top))


if __name__ == "__main__":
    main()
