"""fit's progress bar on a terminal, in Keras's manner:

    Epoch 1/5
    23456/50000 [=============>................] - ETA: 12s - loss: 0.5123 - accuracy: 0.8123
"""

import time

_WIDTH = 30
_EVERY = 0.1  # seconds between redraws: a terminal need not see every step


class Progress:
    def __init__(self, epochs, total, out):
        self.epochs, self.total, self.out = epochs, total, out
        self.epoch, self.start, self.drawn = 0, 0.0, 0.0

    def _begin(self, epoch):
        if epoch != self.epoch:
            self.epoch, self.start, self.drawn = epoch, time.monotonic(), 0.0
            self.out.write("Epoch %d/%d\n" % (epoch, self.epochs))

    def _bar(self, done):
        filled = _WIDTH * done // self.total
        head = ">" if filled < _WIDTH else ""
        digits = len(str(self.total))
        return "%*d/%d [%s%s%s]" % (digits, done, self.total, "=" * filled, head, "." * (_WIDTH - filled - len(head)))

    def update(self, epoch, done, loss, accuracy):
        self._begin(epoch)
        now = time.monotonic()
        if now - self.drawn < _EVERY:
            return
        self.drawn = now
        eta = (now - self.start) / done * (self.total - done) if done else 0.0
        self.out.write("\r%s - ETA: %.0fs - loss: %.4f - accuracy: %.4f\033[K"
                       % (self._bar(done), eta, loss, accuracy))
        self.out.flush()

    def finish(self, epoch, figures, secs):
        self._begin(epoch)
        self.out.write("\r%s - %.1fs - %s\033[K\n" % (self._bar(self.total), secs, figures))
        self.out.flush()
