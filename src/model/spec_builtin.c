/* The built-in network specs (docs/spec-format.md): `clcnn train --model
 * NAME` and clcnn_model_from_spec take these names before any file. */
#include <string.h>

#include "internal.h"

typedef struct builtin_spec {
    const char *name, *text;
} builtin_spec;

static const builtin_spec builtins[] = {
    {"lenet5", /* DESIGN.md §2: the same layers as clcnn_model_lenet5 */
     "# LeNet-5 (DESIGN.md section 2), 61,706 parameters\n"
     "input 28x28x1\n"
     "conv units=6 k=5 s=1 padding=same activation=relu\n"
     "pool k=2 s=2 mode=max\n"
     "conv units=16 k=5 s=1 padding=valid activation=relu\n"
     "pool k=2 s=2 mode=max\n"
     "flatten\n"
     "dense units=120 activation=relu\n"
     "dense units=84 activation=relu\n"
     "dense units=10 activation=softmax\n"},
    {"alexnet-mini", /* issue 13 item 9; bench/alexnet_mini_pytorch.py has the
                        same layers */
     "# alexnet-mini: AlexNet's ingredients at 28x28x1 (docs/alexnet.md): "
     "grouped\n"
     "# convolutions, LRN after the first two, overlapping 3x3/2 max pooling,\n"
     "# ReLU, dropout before the dense layers.  72,394 parameters.\n"
     "input 28x28x1\n"
     "conv units=16 k=5 s=1 padding=same activation=relu\n"
     "lrn size=5 alpha=0.0001 beta=0.75 k=2\n"
     "pool k=3 s=2 mode=max\n"
     "conv units=32 k=5 s=1 padding=same groups=2 activation=relu\n"
     "lrn size=5 alpha=0.0001 beta=0.75 k=2\n"
     "pool k=3 s=2 mode=max\n"
     "conv units=48 k=3 s=1 padding=same activation=relu\n"
     "conv units=48 k=3 s=1 padding=same groups=2 activation=relu\n"
     "conv units=32 k=3 s=1 padding=same groups=2 activation=relu\n"
     "pool k=3 s=2 mode=max\n"
     "flatten\n"
     "dropout rate=0.5\n"
     "dense units=128 activation=relu\n"
     "dropout rate=0.5\n"
     "dense units=128 activation=relu\n"
     "dense units=10 activation=softmax\n"},
};

const char *clcnn_spec_builtin(const char *name)
{
    for (size_t i = 0; name && i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(name, builtins[i].name) == 0)
            return builtins[i].text;
    return NULL;
}

const char *clcnn_spec_builtin_name(size_t i)
{
    return i < sizeof builtins / sizeof builtins[0] ? builtins[i].name : NULL;
}
