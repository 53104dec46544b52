/* clcnn train: LeNet-5 (or --model SPEC) with Adam, a progress bar per epoch, metrics. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "model_file.h"
#include "tb_log.h"
#include "dist.h"
#include "train_optim.h"

static const char usage_text[] =
    "usage: clcnn train [OPTIONS]\n"
    "Trains a network (LeNet-5, or --model SPEC) on MNIST-format data or an image\n"
    "folder, reporting each epoch.\n\n"
    "  --data PATH         a directory of MNIST-named IDX files (raw or .gz), an\n"
    "                      .npz (X_train, Y_train, X_valid, ...), or an image\n"
    "                      folder (PATH/train/<class>/*.png|jpg, PATH/test/...);\n"
    "                      default " CLI_DEFAULT_DATA "\n"
    "  --epochs N          passes over the training set (default 5)\n"
    "  --batch-size N      examples per step (default 32)\n"
    "  --lr X              learning rate (default 0.001; with --optimizer sgd 0.01)\n"
    TRAIN_OPTIM_USAGE
    "  --seed N            initialisation and shuffling seed (default 1)\n"
    "  --device D          auto, cpu, opencl or opencl:P:D (default auto)\n"
    "  --valid-size N      validate on the last N training images when the data\n"
    "                      has no validation split (default: one sixth; 0: none)\n"
    "  --save FILE         save the trained model to FILE\n"
    "  --checkpoint FILE   keep a checkpoint (model, Adam state, position) in FILE,\n"
    "                      rewritten atomically every --checkpoint-every steps\n"
    "                      and at the end of every epoch\n"
    "  --checkpoint-every N  steps between checkpoints (default 500)\n"
    "  --resume FILE       continue the run a checkpoint recorded (same data);\n"
    "                      it keeps checkpointing to FILE unless --checkpoint says\n"
    "                      otherwise\n"
    "  --metrics FILE      write per-epoch figures to FILE as CSV\n"
    "  --class-names FILE  the classes' names, one per line, kept in the saved\n"
    "                      model and checkpoints (default: the data's own, as an\n"
    "                      .npz's class_names or Fashion-MNIST's ten names)\n"
    "  --logdir DIR        write TensorBoard event files into DIR (created if\n"
    "                      missing): per-step and per-epoch scalars, weight\n"
    "                      histograms, the first filters (docs/tensorboard.md)\n"
    "  --augment LIST      augment training images as batches are assembled:\n"
    "                      crop:N (pad N zeros a side, crop back at a random\n"
    "                      offset), flip (mirror half left-right), or both as\n"
    "                      crop:N,flip; drawn from --seed (checkpoints keep it)\n"
    "  --model SPEC        the network: a built-in name (lenet5, the default, or\n"
    "                      alexnet-mini) or a spec file, one layer per line\n"
    "                      (docs/spec-format.md); the saved model keeps its layers\n"
    "  --init FILE         start from this model (a clcnn model, or an .onnx:\n"
    "                      docs/onnx.md) instead of a new network (--model); --seed\n"
    "                      then only shuffles\n"
    "  --quiet             print only the final figures\n"
    "  --help              show this help\n"
    "Under mpirun -n N, N processes train one model, each a share of every\n"
    "batch (docs/distributed.md); rank 0 prints and writes the files.\n";

typedef struct options {
    const char *data, *device, *save, *metrics, *checkpoint, *resume;
    size_t epochs, batch, valid_size, checkpoint_every;
    int valid_size_set;
    double lr;
    unsigned long long seed;
    int quiet;
    const char *class_names; /* --class-names FILE */
    const char *logdir; /* --logdir */
    train_optim optim;  /* --optimizer ... --lr-schedule (train_optim.h) */
    int lr_set;
    clcnn_augment augment; /* --augment */
    const char *model;  /* --model SPEC (NULL: lenet5) */
    const char *init;   /* onnx: --init FILE, the model to fine-tune */
} options;

/* What the training callback needs: the display and the epoch summaries. */
typedef struct progress {
    const options *o;
    clcnn_ctx *ctx;
    clcnn_model *model;
    const clcnn_dataset *valid;
    FILE *metrics;
    double start, last_draw; /* of the epoch */
    uint64_t first_done;     /* examples the epoch had done when this run took it up */
    int tty;
    int failed; /* the callback failed and printed why */
    tb_log *tb; /* --logdir (NULL: none) */
} progress;

static void format_time(double s, char *buf, size_t len)
{
    /* Clamped to 99:59:59 so the text always fits. */
    unsigned t = s > 0 ? (s < 359999.0 ? (unsigned)(s + 0.5) : 359999u) : 0u;
    if (t >= 3600)
        snprintf(buf, len, "%u:%02u:%02u", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%02u:%02u", t / 60, t % 60);
}

/* Redraws the bar on a terminal at most ten times a second; elsewhere
 * prints a plain line at most every ten seconds. */
static void draw(progress *p, const clcnn_train_state *s)
{
    size_t done = (size_t)s->done, total = (size_t)s->data_count;
    double loss = s->loss_sum / (double)done, accuracy = s->correct / (double)done;
    double now = cli_now(), elapsed = now - p->start;
    int last = done == total;
    if (!last && now - p->last_draw < (p->tty ? 0.1 : 10.0))
        return;
    p->last_draw = now;
    double rate = elapsed > 0 ? (double)done / elapsed : 0.0;
    char el[32], eta[32];
    format_time(elapsed, el, sizeof el);
    format_time(rate > 0 ? (double)(total - done) / rate : 0.0, eta, sizeof eta);
    if (p->tty) {
        char bar[31];
        size_t fill = total ? done * 30 / total : 30;
        for (size_t i = 0; i < 30; i++)
            bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        bar[30] = '\0';
        fprintf(stderr, "\repoch %u/%zu [%s] %zu/%zu %s<%s %.0f img/s loss %.4f acc %.4f\033[K", s->epoch,
                p->o->epochs, bar, done, total, el, eta, rate, loss, accuracy);
        if (last)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "epoch %u/%zu: %zu/%zu images, %s elapsed, ETA %s, %.0f img/s, loss %.4f, acc %.4f\n",
                s->epoch, p->o->epochs, done, total, el, eta, rate, loss, accuracy);
    }
    fflush(stderr);
}

/* The epoch's summary: validation, a line on stderr, a row of metrics. */
static int summarise(progress *p, const clcnn_train_state *s)
{
    const options *o = p->o;
    double secs = cli_now() - p->start, vloss = 0, vacc = 0;
    double loss = s->loss_sum / (double)s->done, acc = s->correct / (double)s->done;
    if (s->validated)
        vloss = s->valid_loss, vacc = s->valid_accuracy; /* the run evaluated it (run_opts.valid) */
    else if (p->valid && clcnn_model_evaluate(p->model, p->valid, 0, &vloss, &vacc) != CLCNN_OK)
        return cli_fail("%s", clcnn_errmsg(p->ctx));
    double rate = (double)(s->done - p->first_done) / secs;
    if (!o->quiet) {
        if (p->valid)
            fprintf(stderr, "epoch %u/%zu: loss %.4f acc %.4f | val_loss %.4f val_acc %.4f | %.1f s, %.0f img/s\n",
                    s->epoch, o->epochs, loss, acc, vloss, vacc, secs, rate);
        else
            fprintf(stderr, "epoch %u/%zu: loss %.4f acc %.4f | %.1f s, %.0f img/s\n", s->epoch, o->epochs, loss, acc,
                    secs, rate);
    }
    if (p->metrics) {
        if (p->valid)
            fprintf(p->metrics, "%u,%.6f,%.6f,%.6f,%.6f,%.3f,%.1f\n", s->epoch, loss, acc, vloss, vacc, secs, rate);
        else
            fprintf(p->metrics, "%u,%.6f,%.6f,,,%.3f,%.1f\n", s->epoch, loss, acc, secs, rate);
        if (fflush(p->metrics))
            return cli_fail("%s: write failed", o->metrics);
    }
    if (p->tb) {
        tb_epoch_figures f = {loss, acc, p->valid != NULL, vloss, vacc, secs, rate};
        tb_log_epoch(p->tb, p->model, s->epoch, &f);
    }
    return 0;
}

static int on_train(void *user, clcnn_train_event event, const clcnn_train_state *s)
{
    progress *p = user;
    switch (event) {
    case CLCNN_TRAIN_EPOCH_BEGIN:
        p->start = p->last_draw = cli_now();
        p->first_done = s->done;
        if (p->tb)
            tb_log_epoch_begin(p->tb, s);
        return 0;
    case CLCNN_TRAIN_PROGRESS:
        if (!p->o->quiet)
            draw(p, s);
        if (p->tb)
            tb_log_step(p->tb, p->model, s);
        return 0;
    case CLCNN_TRAIN_EPOCH_END: return p->failed = summarise(p, s);
    }
    return 0;
}

/* --augment: a comma-separated list of crop:N and flip. */
static int parse_augment(const char *arg, clcnn_augment *a)
{
    *a = (clcnn_augment){0, 0};
    char buf[64];
    size_t len = strlen(arg);
    if (len == 0 || len >= sizeof buf || arg[0] == ',' || arg[len - 1] == ',' || strstr(arg, ",,"))
        return -1; /* (strtok would skip the empty item) */
    memcpy(buf, arg, len + 1);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        size_t n;
        if (!strcmp(t, "flip") && !a->flip)
            a->flip = 1;
        else if (!strncmp(t, "crop:", 5) && !a->crop && !cli_parse_size(t + 5, 1, 255, &n))
            a->crop = (unsigned)n;
        else
            return -1;
    }
    return a->crop || a->flip ? 0 : -1;
}

static int parse(int argc, char **argv, options *o)
{
    enum {
        O_DATA = 1, O_EPOCHS, O_BATCH, O_LR, O_SEED, O_DEVICE, O_VALID, O_SAVE, O_METRICS, O_QUIET, O_HELP,
        O_CHECKPOINT, O_CHECKPOINT_EVERY, O_RESUME,
        O_CLASS_NAMES,
        O_LOGDIR,
        O_AUGMENT,
        O_MODEL,
        O_INIT,
    };
    static const struct option longopts[] = {
        {"data", required_argument, 0, O_DATA},       {"epochs", required_argument, 0, O_EPOCHS},
        {"batch-size", required_argument, 0, O_BATCH}, {"lr", required_argument, 0, O_LR},
        {"seed", required_argument, 0, O_SEED},       {"device", required_argument, 0, O_DEVICE},
        {"valid-size", required_argument, 0, O_VALID}, {"save", required_argument, 0, O_SAVE},
        {"metrics", required_argument, 0, O_METRICS}, {"quiet", no_argument, 0, O_QUIET},
        {"help", no_argument, 0, O_HELP},             {"checkpoint", required_argument, 0, O_CHECKPOINT},
        {"checkpoint-every", required_argument, 0, O_CHECKPOINT_EVERY},
        {"resume", required_argument, 0, O_RESUME},
        {"class-names", required_argument, 0, O_CLASS_NAMES},
        {"logdir", required_argument, 0, O_LOGDIR},
        TRAIN_OPTIM_LONGOPTS,
        {"augment", required_argument, 0, O_AUGMENT},
        {"model", required_argument, 0, O_MODEL},
        {"init", required_argument, 0, O_INIT},
        {0, 0, 0, 0},
    };
    *o = (options){.epochs = 5, .batch = 32, .lr = 0.001, .seed = 1, .checkpoint_every = 500};
    opterr = 0;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_DATA: o->data = optarg; break;
        case O_DEVICE: o->device = optarg; break;
        case O_SAVE: o->save = optarg; break;
        case O_METRICS: o->metrics = optarg; break;
        case O_QUIET: o->quiet = 1; break;
        case O_CHECKPOINT: o->checkpoint = optarg; break;
        case O_RESUME: o->resume = optarg; break;
        case O_CLASS_NAMES: o->class_names = optarg; break;
        case O_LOGDIR: o->logdir = optarg; break;
        case O_AUGMENT:
            if (parse_augment(optarg, &o->augment))
                return cli_usage_error("train", "--augment wants crop:N (N from 1 to 255), flip or crop:N,flip, not "
                                       "'%s'", optarg);
            break;
        case O_MODEL: o->model = optarg; break;
        case O_INIT: o->init = optarg; break;
        case O_CHECKPOINT_EVERY:
            if (cli_parse_size(optarg, 1, (size_t)1 << 40, &o->checkpoint_every))
                return cli_usage_error("train", "--checkpoint-every wants a whole number from 1, not '%s'", optarg);
            break;
        case O_HELP: fputs(usage_text, stdout); return 0;
        case O_EPOCHS:
            if (cli_parse_size(optarg, 1, 100000, &o->epochs))
                return cli_usage_error("train", "--epochs wants a whole number from 1, not '%s'", optarg);
            break;
        case O_BATCH:
            if (cli_parse_size(optarg, 1, 1 << 20, &o->batch))
                return cli_usage_error("train", "--batch-size wants a whole number from 1, not '%s'", optarg);
            break;
        case O_VALID:
            if (cli_parse_size(optarg, 0, (size_t)1 << 40, &o->valid_size))
                return cli_usage_error("train", "--valid-size wants a whole number from 0, not '%s'", optarg);
            o->valid_size_set = 1;
            break;
        case O_LR:
            if (cli_parse_float(optarg, 1e-12, 10.0, &o->lr))
                return cli_usage_error("train", "--lr wants a number in (0, 10], not '%s'", optarg);
            o->lr_set = 1;
            break;
        case O_SEED:
            if (cli_parse_u64(optarg, &o->seed))
                return cli_usage_error("train", "--seed wants a whole number from 0, not '%s'", optarg);
            break;
        case TRAIN_OPTIM_OPTIMIZER:
        case TRAIN_OPTIM_MOMENTUM:
        case TRAIN_OPTIM_WEIGHT_DECAY:
        case TRAIN_OPTIM_NESTEROV:
        case TRAIN_OPTIM_LR_SCHEDULE:
            if (train_optim_parse(&o->optim, c, optarg))
                return 2;
            break;
        default:
            return cli_usage_error("train", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (o->resume && o->init)
        return cli_usage_error("train", "--init and --resume exclude each other (a checkpoint holds its model)");
    if (o->resume && !o->checkpoint)
        o->checkpoint = o->resume;
    if (train_optim_check(&o->optim, o->resume != NULL, o->lr_set, &o->lr))
        return 2;
    if (o->resume && o->model)
        return cli_usage_error("train", "--resume continues the checkpoint's own network; drop --model");
    if (o->resume && (o->augment.crop || o->augment.flip))
        return cli_usage_error("train", "--resume continues with the checkpoint's augmentation; drop --augment");
    if (o->init && o->model)
        return cli_usage_error("train", "--init starts from its own network; drop --model");
    return -1;
}

static int write_metrics_header(FILE *f)
{
    return fprintf(f, "epoch,loss,accuracy,val_loss,val_accuracy,seconds,images_per_second\n") < 0 || fflush(f);
}

/* mpi: under mpirun, the header line names the job (dist.h). */
static const char *dist_header(const cli_dist *d, char *buf, size_t len)
{
    if (!d->active)
        return "";
    snprintf(buf, len, " over %d rank%s", d->size, d->size == 1 ? "" : "s");
    return buf;
}

static int run(const options *o, clcnn_ctx *ctx, cli_dist *dist)
{
    clcnn_dataset *train = NULL, *valid = NULL, *test = NULL;
    clcnn_model *model = NULL;
    FILE *metrics = NULL;
    tb_log *tb = NULL;
    int rc = 1;

    if (cli_load_data(ctx, o->data, &train, &valid, &test) || cli_dist_check_data(dist, train))
        goto done;
    if (!valid) {
        size_t n = clcnn_dataset_count(train);
        size_t vs = o->valid_size_set ? o->valid_size : n / 6;
        if (vs >= n) {
            rc = cli_fail("--valid-size %zu leaves no training images (the set has %zu)", vs, n);
            goto done;
        }
        if (vs && clcnn_dataset_split_tail(ctx, train, vs, &valid) != CLCNN_OK) {
            rc = cli_fail("%s", clcnn_errmsg(ctx));
            goto done;
        }
    }
    /* --model: the network, from its spec (lenet5 by default). */
    const char *spec = o->model ? o->model : "lenet5";
    char title[300];
    if (o->resume)
        snprintf(title, sizeof title, "the network of %s", o->resume);
    else if (o->init)
        snprintf(title, sizeof title, "%s", o->init);
    else
        snprintf(title, sizeof title, "%s", strcmp(spec, "lenet5") == 0 ? "LeNet-5" : spec);
    size_t shape[3], takes[3];
    clcnn_dataset_image_shape(train, shape);
    clcnn_train_state state;
    if (o->resume) {
        if (clcnn_model_load_checkpoint(ctx, &model, o->resume, &state) != CLCNN_OK) {
            rc = cli_fail("%s", clcnn_errmsg(ctx));
            goto done;
        }
        if (!o->quiet)
            fprintf(stderr, "clcnn: resuming %s at epoch %u, example %llu (seed %llu, batch %u)\n", o->resume,
                    state.epoch, (unsigned long long)state.done, (unsigned long long)state.seed, state.batch_size);
    } else if (o->init ? cli_load_classifier(ctx, &model, o->init) : clcnn_model_from_spec(ctx, &model, spec)) {
        rc = cli_fail("%s", clcnn_errmsg(ctx));
        goto done;
    }
    clcnn_model_input_shape(model, takes);
    if (memcmp(shape, takes, sizeof shape) != 0) {
        rc = cli_fail("%s takes %zux%zux%zu images; the data has %zux%zux%zu", title,
                      takes[0], takes[1], takes[2], shape[0], shape[1], shape[2]);
        goto done;
    }
    if (!o->resume && ((!o->init && clcnn_model_init(model, o->seed)) ||
                       clcnn_model_set_adam(model, (float)o->lr, 0.9f, 0.999f, 1e-7f) ||
                       clcnn_train_state_init(&state, train, o->seed, o->batch))) {
        rc = cli_fail("%s", clcnn_errmsg(ctx));
        goto done;
    }
    if (!o->resume && train_optim_apply(&o->optim, ctx, model, o->lr))
        goto done;
    if (o->optim.schedule.kind == CLCNN_LR_PLATEAU && !valid) {
        rc = cli_fail("--lr-schedule plateau needs validation images (the data has no validation split and "
                      "--valid-size is 0)");
        goto done;
    }
    if (cli_train_class_names(ctx, model, o->class_names, train, o->quiet))
        goto done;
    if (!o->resume && clcnn_model_set_augment(model, &o->augment) != CLCNN_OK) {
        rc = cli_fail("%s", clcnn_errmsg(ctx));
        goto done;
    }
    if (cli_dist_attach(dist, model)) {
        rc = cli_fail("%s", clcnn_errmsg(ctx));
        goto done;
    }
    if (o->metrics) {
        /* A resumed run adds its epochs to the file the run began. */
        metrics = o->resume ? fopen(o->metrics, "a") : fopen(o->metrics, "w");
        if (!metrics || (ftell(metrics) == 0 && write_metrics_header(metrics))) {
            rc = cli_fail("%s: cannot write the metrics file", o->metrics);
            goto done;
        }
    }
    if (o->logdir && tb_log_open(&tb, o->logdir))
        goto done;
    char job[64];
    if (!o->quiet)
        fprintf(stderr, "clcnn: %s (%zu parameters) on %s; %zu training, %zu validation images; batch %u%s\n",
                title, clcnn_model_param_count(model), clcnn_ctx_device_name(ctx), clcnn_dataset_count(train),
                valid ? clcnn_dataset_count(valid) : (size_t)0, state.batch_size, dist_header(dist, job, sizeof job));

    progress p = {.o = o, .ctx = ctx, .model = model, .valid = valid, .metrics = metrics, .tty = isatty(2), .tb = tb};
    clcnn_train_options run_opts = {.epochs = (uint32_t)o->epochs, .callback = on_train, .user = &p,
                                    .checkpoint = o->checkpoint, .checkpoint_every = o->checkpoint_every,
                                    .valid = valid};
    if (tb)
        run_opts.report_every = 1; /* --logdir records every step */
    int status = clcnn_model_train_run(model, train, &state, &run_opts);
    if (p.failed)
        goto done;
    if (status != CLCNN_OK) {
        if (o->checkpoint)
            rc = cli_fail("%s; the last checkpoint, %s, is kept", clcnn_errmsg(ctx), o->checkpoint);
        else
            rc = cli_fail("%s", clcnn_errmsg(ctx));
        goto done;
    }
    if (o->save) {
        if (clcnn_model_save(model, o->save) != CLCNN_OK) {
            rc = cli_fail("%s", clcnn_errmsg(ctx));
            goto done;
        }
        if (!o->quiet)
            fprintf(stderr, "clcnn: saved the model to %s\n", o->save);
    }
    if (test) {
        double tloss, tacc;
        if (clcnn_model_evaluate(model, test, 0, &tloss, &tacc) != CLCNN_OK) {
            rc = cli_fail("%s", clcnn_errmsg(ctx));
            goto done;
        }
        if (dist->rank == 0)
            printf("test: loss %.4f accuracy %.4f (%zu images)\n", tloss, tacc, clcnn_dataset_count(test));
    }
    if (dist->active && !o->quiet && dist->steps)
        fprintf(stderr, "clcnn: %d rank%s: gradient all-reduce %.3f ms per step (%llu steps)\n", dist->size,
                dist->size == 1 ? "" : "s", 1e3 * dist->reduce_seconds / (double)dist->steps, dist->steps);
    rc = 0;
done:
    if (metrics && fclose(metrics) != 0 && rc == 0)
        rc = cli_fail("%s: write failed", o->metrics);
    if (tb_log_close(tb) && rc == 0)
        rc = 1; /* the failure was reported when it happened */
    clcnn_model_free(model);
    clcnn_dataset_free(train);
    clcnn_dataset_free(valid);
    clcnn_dataset_free(test);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    options o;
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    /* mpi: one rank of an MPI job; rank 0 alone prints and writes files. */
    cli_dist dist;
    if (cli_dist_init(&dist, &argc, &argv))
        return 1;
    if (dist.rank != 0) {
        o.quiet = 1;
        o.save = o.metrics = o.logdir = NULL; /* and the TensorBoard log */
    }
    clcnn_ctx *ctx = cli_dist_open_ctx(&dist, o.device);
    rc = ctx ? run(&o, ctx, &dist) : 1;
    clcnn_ctx_free(ctx);
    return cli_dist_finish(&dist, rc);
}
