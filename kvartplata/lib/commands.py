"""Shared pieces of management commands that know nothing of the domain.

Choosing the organization is `registry.commands`, choosing its period too.
"""


class ProgressBar:
    """A tqdm bar fed with (done, total) callbacks."""

    def __init__(self, desc: str, enabled: bool = True):
        from tqdm import tqdm

        self.bar = tqdm(total=0, desc=desc, unit="сч.", disable=not enabled)

    def __call__(self, done: int, total: int) -> None:
        if self.bar.total != total:
            self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()
