/**
 * The hyper-parameters of the reproduction suite, per task and optimizer: the settings of the paper's
 * experiment scripts (the per-task table of the paper and its official repository), adapted where our task
 * differs from the paper's, each with a one-line rationale. They were fixed before any test result was seen;
 * an optional learning-rate sweep may override the learning rate and selects on the validation split only.
 *
 * The learning rates here are the *initial* rates: each task turns them into its schedule (CNN ×0.1 at 75 %
 * of training, LSTM ÷10 at 50 % and 75 %, GAN constant). Task-wide settings (batch size, clipping, …) are in
 * {@link TASK_SETTINGS}.
 *
 * @module
 */
import type { OptimizerName } from "./task.js";
import { OPTIMIZERS } from "./task.js";

/**
 * The tables: one per task, except that WGAN and WGAN-GP share the paper's GAN-script settings (`wgan`) and
 * their tuned variant (`wgan-tuned`), and the word-level language model has the paper's 1-layer settings
 * (`word-lm`) and its 2–3-layer settings (`word-lm-deep`). The toy task has its own settings.
 */
export type HParamTask = "cnn" | "lstm" | "gan" | "wgan" | "wgan-tuned" | "word-lm" | "word-lm-deep";

/** Every table, in a fixed order. */
export const HPARAM_TASKS: readonly HParamTask[] = Object.freeze([
  "cnn",
  "lstm",
  "gan",
  "wgan",
  "wgan-tuned",
  "word-lm",
  "word-lm-deep",
]);

/**
 * Optimizer options of one (task, optimizer) cell: the core/tfjs option names, with numbers, booleans and
 * (for enumerations such as RAdam's `variant`) strings.
 */
export type OptimizerSettings = Readonly<Record<string, number | boolean | string>> & {
  readonly learningRate: number;
};

/** One cell of the table: what the optimizer gets, and why. */
export interface HParamEntry {
  /** Options passed to the optimizer factory (the learning rate is the schedule's initial value). */
  options: OptimizerSettings;
  /** One line: where the setting comes from and what was adapted. */
  rationale: string;
}

/** Settings shared by every optimizer of a task, with their rationale. */
export interface TaskSettings {
  /** Values (batch size, clipping norm, schedule milestones as fractions of training, …). */
  values: Readonly<Record<string, number | string>>;
  /** One line per value: why. */
  rationale: Readonly<Record<string, string>>;
}

/** Shared settings of WGAN and WGAN-GP: the paper's GAN scripts (PAPER.md, last table). */
const WGAN_SETTINGS: TaskSettings = {
  values: {
    batchSize: 64,
    criticSteps: 5,
    weightClip: 0.01,
    gradientPenalty: 10,
    lr: 2e-4,
    beta1: 0.5,
    beta2: 0.999,
  },
  rationale: {
    batchSize: "The paper's GAN batch size.",
    criticSteps: "The paper's 5 critic steps per generator step (its scripts' n_critic).",
    weightClip: "WGAN only: the paper's weight clipping to [−0.01, 0.01] after every critic step.",
    gradientPenalty:
      "WGAN-GP only: λ = 10 on the input-gradient norm at random interpolates of real and generated images, as the paper's script (no weight clipping).",
    lr: "The paper's 2e-4 for every optimizer, Fromage and plain SGD included (the scripts pass lr=2e-4 to all).",
    beta1: "The paper's β1 = 0.5 for every optimizer with a β1 (MSVAG: its single β).",
    beta2: "The paper's β2 = 0.999.",
  },
};

/** Shared settings of the word-level language model: the paper's PTB protocol (PAPER.md, last table). */
const WORD_LM_SETTINGS: TaskSettings = {
  values: {
    batchSize: 20,
    bptt: 35,
    clipGlobalNorm: 0.25,
    lrDecayAt: "0.5, 0.725",
    lrDecayFactor: 0.1,
    weightDecay: 1.2e-6,
  },
  rationale: {
    batchSize: "The paper's 20 sequences.",
    bptt: "35 words of truncated back-propagation (Zaremba et al.'s PTB setting; the paper's AWD-LSTM code uses ~70): at our short budgets, shorter sequences give twice the updates for the same words.",
    clipGlobalNorm:
      "The paper's gradient-norm clipping 0.25 (loss: mean cross-entropy per word, as the paper's).",
    lrDecayAt: "The paper's ÷10 at epochs 100 and 145 of 200: at 50 % and 72.5 % of our updates.",
    lrDecayFactor: "The paper's ÷10.",
    weightDecay:
      "The paper's weight decay 1.2e-6 (AdamW: decoupled), for every optimizer that has the option.",
  },
};

/** The settings shared by all optimizers of each task. */
export const TASK_SETTINGS: Readonly<Record<HParamTask, TaskSettings>> = Object.freeze({
  cnn: {
    values: { batchSize: 128, lrDecayAt: 0.75, lrDecayFactor: 0.1, weightDecay: 5e-4 },
    rationale: {
      batchSize: "The paper's CIFAR-10 batch size.",
      lrDecayAt: "The paper decays at epoch 150 of 200, i.e. 75 % of training.",
      lrDecayFactor: "The paper's ×0.1 step decay.",
      weightDecay: "The paper's L2 weight decay 5e-4 for every optimizer except AdamW (decoupled 1e-2).",
    },
  },
  lstm: {
    values: {
      batchSize: 32,
      bptt: 64,
      clipGlobalNorm: 0.25,
      lrDecayAt: "0.5, 0.75",
      lrDecayFactor: 0.1,
      weightDecay: 1.2e-6,
    },
    rationale: {
      batchSize:
        "32 sequences (the paper's PTB runs used 20 on word level; more parallel sequences suit a CPU better).",
      bptt: "64 characters of truncated back-propagation (≈ 12 words, comparable to the paper's 70 words of context in bits).",
      clipGlobalNorm:
        "The paper's 0.25: our loss is also the mean cross-entropy per token, so gradient norms have the same scale; it caps SGD's step at lr·0.25.",
      lrDecayAt: "The paper decays at epochs 100 and 145 of 200 (50 % and 72.5 %); we use 50 % and 75 %.",
      lrDecayFactor: "The paper's ÷10.",
      weightDecay:
        "The paper's L2 weight decay 1.2e-6 (AWD-LSTM's), for every optimizer that has the option.",
    },
  },
  gan: {
    values: { batchSize: 64, discriminatorSteps: 1, lr: 2e-4, beta1: 0.5, beta2: 0.999 },
    rationale: {
      batchSize: "The paper's GAN batch size.",
      discriminatorSteps:
        "1 discriminator step per generator step: our GAN uses the standard (non-saturating) loss of DCGAN, not WGAN's 5 critic steps.",
      lr: "The paper's 2e-4 for every optimizer.",
      beta1: "The paper's β1 = 0.5 (momentum 0.5 for SGD).",
      beta2: "The paper's β2 = 0.999.",
    },
  },
  wgan: WGAN_SETTINGS,
  "wgan-tuned": WGAN_SETTINGS,
  "word-lm": WORD_LM_SETTINGS,
  "word-lm-deep": WORD_LM_SETTINGS,
});

const CNN_WD = 5e-4;
const LSTM_WD = 1.2e-6;

/** The paper's word-level LSTM settings for 1-layer models (PAPER.md's last table): the `lstm` and `word-lm` tables. */
const LSTM_ONE_LAYER: Readonly<Record<OptimizerName, HParamEntry>> = {
  sgd: {
    options: { learningRate: 30, momentum: 0, weightDecay: LSTM_WD },
    rationale: "Paper (PTB, AWD-LSTM-style plain SGD): lr 30 with clipping 0.25, L2 1.2e-6.",
  },
  adam: {
    options: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-12, weightDecay: LSTM_WD },
    rationale: "Paper (1-layer LSTM): lr 1e-3, eps 1e-12.",
  },
  adamw: {
    options: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-12, weightDecay: LSTM_WD },
    rationale:
      "Paper (1-layer LSTM): lr 1e-3, eps 1e-12; decoupled decay 1.2e-6 (the task's decay, decoupled).",
  },
  yogi: {
    options: { learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-3, weightDecay: LSTM_WD },
    rationale: "Paper: lr 0.01, eps 1e-3.",
  },
  adabound: {
    options: {
      learningRate: 1e-2,
      finalLr: 30,
      gamma: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: LSTM_WD,
    },
    rationale:
      "Paper: lr 0.01; final_lr 30 = the task's SGD lr (AdaBound converges to SGD; the paper does not list it).",
  },
  radam: {
    options: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-12, weightDecay: LSTM_WD },
    rationale: "Paper (1-layer LSTM): lr 1e-3, eps 1e-12.",
  },
  msvag: {
    options: { learningRate: 30, beta1: 0.9, weightDecay: LSTM_WD },
    rationale: "Paper: lr 30 (SGD-scale), with the task's clipping.",
  },
  fromage: {
    options: { learningRate: 0.01 },
    rationale: "Not in the paper's LSTM runs: lr 0.01, its CIFAR-10 setting and its authors' default.",
  },
  adabelief: {
    options: {
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-16,
      weightDecay: LSTM_WD,
      weightDecouple: false,
      rectify: false,
    },
    rationale: "Paper (1-layer LSTM): lr 1e-3, eps 1e-16, L2 1.2e-6, no decoupling, no rectification.",
  },
};

const TUNED_HOW =
  "selected by a learning-rate sweep of WGAN on the validation Fréchet distance (`sweep wgan --quick --epochs 3 --lrs 2e-4,2e-3,2e-2,2e-1,2,20`: 30 generator steps, one seed; results/sweep-wgan) — short runs, so a rough choice; WGAN-GP reuses it";

/** The paper's WGAN / WGAN-GP settings per optimizer (PAPER.md's last table, and its scripts where it is silent). */
const WGAN_PAPER: Readonly<Record<OptimizerName, HParamEntry>> = {
  sgd: {
    options: { learningRate: 2e-4, momentum: 0 },
    rationale:
      "Paper: the shared lr 2e-4; plain SGD (PAPER.md gives SGD no momentum for the GANs; the scripts call torch.optim.SGD(lr=2e-4)).",
  },
  adam: {
    options: { learningRate: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 },
    rationale: "Paper: lr 2e-4, β (0.5, 0.999), eps 1e-8.",
  },
  adamw: {
    options: { learningRate: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-2 },
    rationale:
      "Paper: lr 2e-4, β (0.5, 0.999), eps 1e-8; decoupled decay 1e-2: PAPER.md is silent, the scripts' AdamW class defaults to weight_decay 1e-2 and they do not override it.",
  },
  yogi: {
    options: { learningRate: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-8, initialAccumulator: 1e-6 },
    rationale:
      "Paper: lr 2e-4, β (0.5, 0.999), eps 1e-8 (the shared GAN eps, not Yogi's 1e-3); initial accumulator 1e-6 (PAPER.md is silent: the scripts' Yogi default).",
  },
  adabound: {
    options: { learningRate: 2e-4, finalLr: 1e-2, gamma: 1e-3, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 },
    rationale:
      "Paper: lr 2e-4, final_lr 1e-2, β (0.5, 0.999), eps 1e-8; γ 1e-3 (PAPER.md is silent: AdaBound's default, which the scripts keep).",
  },
  radam: {
    options: { learningRate: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-8, variant: "paper" },
    rationale:
      'Paper: lr 2e-4, β (0.5, 0.999), eps 1e-8; the RAdam of the paper\'s folder (variant "paper", SGD-like warm-up steps: PAPER.md is silent, the scripts import that class with its defaults).',
  },
  msvag: {
    options: { learningRate: 2e-4, beta1: 0.5 },
    rationale:
      "Paper: lr 2e-4, β 0.5 (the scripts pass betas (0.5, 0.999); MSVAG averages both moments with β1, and ignores eps).",
  },
  fromage: {
    options: { learningRate: 2e-4 },
    rationale:
      "Paper: the shared lr 2e-4 (the scripts pass lr=2e-4 to Fromage too; with its relative step α·‖θ‖ it moves little: see the tuned variant).",
  },
  adabelief: {
    options: {
      learningRate: 2e-4,
      beta1: 0.5,
      beta2: 0.999,
      epsilon: 1e-12,
      weightDecay: 0,
      weightDecouple: false,
      rectify: false,
    },
    rationale:
      "Paper: lr 2e-4, β (0.5, 0.999), eps 1e-12, no weight decay, no rectification (the 0.0.5 code).",
  },
};

/**
 * The tuned variant of the WGAN settings: the paper's settings, except the learning rates of the methods
 * whose scale the shared 2e-4 does not fit (plain SGD, Fromage, MSVAG), which are replaced by the rates
 * {@link WGAN_TUNED_RATES} selected on the validation Fréchet distance. Reports of the `-tuned` tasks say so.
 */
export const WGAN_TUNED_RATES: Readonly<Partial<Record<OptimizerName, { rate: number; how: string }>>> =
  Object.freeze({
    sgd: { rate: 2, how: TUNED_HOW },
    fromage: { rate: 0.2, how: TUNED_HOW },
    msvag: { rate: 2, how: TUNED_HOW },
  });

function tunedTable(): Record<OptimizerName, HParamEntry> {
  const out = {} as Record<OptimizerName, HParamEntry>;
  for (const name of OPTIMIZERS) {
    const base = WGAN_PAPER[name];
    const tuned = WGAN_TUNED_RATES[name];
    out[name] = tuned
      ? {
          options: { ...base.options, learningRate: tuned.rate },
          rationale: `TUNED (not the paper's): lr ${tuned.rate} instead of 2e-4, ${tuned.how}. Otherwise as the paper.`,
        }
      : { options: base.options, rationale: `As the paper (not tuned): ${base.rationale}` };
  }
  return out;
}

/** The paper's word-level LSTM settings for 2- and 3-layer models (PAPER.md's last table). */
const WORD_LM_DEEP: Readonly<Record<OptimizerName, HParamEntry>> = {
  sgd: {
    options: { learningRate: 30, momentum: 0, weightDecay: LSTM_WD },
    rationale: "Paper (PTB, 2–3 layers): plain SGD lr 30, L2 1.2e-6.",
  },
  adam: {
    options: { learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: LSTM_WD },
    rationale: "Paper (2–3 layers): lr 0.01, eps 1e-8.",
  },
  adamw: {
    options: { learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: LSTM_WD },
    rationale: "Paper (2–3 layers): lr 0.01, eps 1e-8; decoupled decay 1.2e-6 (the task's decay, decoupled).",
  },
  yogi: {
    options: { learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-3, weightDecay: LSTM_WD },
    rationale: "Paper: lr 0.01, eps 1e-3.",
  },
  adabound: {
    options: {
      learningRate: 1e-2,
      finalLr: 30,
      gamma: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: LSTM_WD,
    },
    rationale:
      "Paper: lr 0.01; final_lr 30 (PAPER.md is silent: the paper's LSTM script passes final_lr=30, the SGD rate).",
  },
  radam: {
    options: { learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: LSTM_WD },
    rationale: "Paper (2–3 layers): lr 0.01, eps 1e-8.",
  },
  msvag: {
    options: { learningRate: 30, beta1: 0.9, weightDecay: LSTM_WD },
    rationale: "Paper: lr 30 (SGD-scale), with the task's clipping.",
  },
  fromage: {
    options: { learningRate: 0.01 },
    rationale:
      "Not in the paper's LSTM runs (PAPER.md is silent): lr 0.01, its CIFAR-10 setting and its authors' default.",
  },
  adabelief: {
    options: {
      learningRate: 1e-2,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-12,
      weightDecay: LSTM_WD,
      weightDecouple: false,
      rectify: false,
    },
    rationale: "Paper (2–3 layers): lr 0.01, eps 1e-12, L2 1.2e-6, no decoupling, no rectification.",
  },
};

/** The table. Every cell is frozen. */
export const HPARAMS: Readonly<Record<HParamTask, Readonly<Record<OptimizerName, HParamEntry>>>> =
  Object.freeze({
    cnn: {
      sgd: {
        options: { learningRate: 0.1, momentum: 0.9, weightDecay: CNN_WD },
        rationale: "Paper (CIFAR-10): lr 0.1, momentum 0.9, L2 5e-4.",
      },
      adam: {
        options: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: CNN_WD },
        rationale: "Paper: lr 1e-3, β (0.9, 0.999), eps 1e-8, L2 5e-4.",
      },
      adamw: {
        options: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-2 },
        rationale: "Paper: lr 1e-3, decoupled weight decay 1e-2.",
      },
      yogi: {
        options: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-3, weightDecay: CNN_WD },
        rationale: "Paper: lr 1e-3, eps 1e-3 (Yogi's own default), L2 5e-4.",
      },
      adabound: {
        options: {
          learningRate: 1e-3,
          finalLr: 0.1,
          gamma: 1e-3,
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-8,
          weightDecay: CNN_WD,
        },
        rationale: "Paper: lr 1e-3, final_lr 0.1 (γ 1e-3, AdaBound's default), L2 5e-4.",
      },
      radam: {
        options: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: CNN_WD },
        rationale: "Paper: lr 1e-3, eps 1e-8, L2 5e-4.",
      },
      msvag: {
        options: { learningRate: 0.1, beta1: 0.9, weightDecay: CNN_WD },
        rationale: "Paper: lr 0.1 (MSVAG takes SGD-scale steps), β 0.9, L2 5e-4.",
      },
      fromage: {
        options: { learningRate: 0.01 },
        rationale:
          "Paper: lr 0.01; Fromage has no weight-decay option (its step is relative to the weights' norm).",
      },
      adabelief: {
        options: {
          learningRate: 1e-3,
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-8,
          weightDecay: CNN_WD,
          weightDecouple: false,
          rectify: false,
        },
        rationale: "Paper (0.0.5 code): lr 1e-3, eps 1e-8, L2 5e-4, no decoupling, no rectification.",
      },
    },
    lstm: LSTM_ONE_LAYER,
    gan: {
      sgd: {
        options: { learningRate: 2e-4, momentum: 0.5 },
        rationale: "Paper's shared GAN lr 2e-4; momentum 0.5 mirrors the shared β1 = 0.5.",
      },
      adam: {
        options: { learningRate: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 },
        rationale: "Paper: lr 2e-4, β (0.5, 0.999), eps 1e-8.",
      },
      adamw: {
        options: { learningRate: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 },
        rationale: "Paper: as Adam; no weight decay in the GAN runs, so AdamW equals Adam here.",
      },
      yogi: {
        options: { learningRate: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 },
        rationale: "Paper: lr 2e-4, β (0.5, 0.999), eps 1e-8 (the shared GAN eps, not Yogi's 1e-3).",
      },
      adabound: {
        options: { learningRate: 2e-4, finalLr: 1e-2, gamma: 1e-3, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 },
        rationale: "Paper: lr 2e-4, final_lr 1e-2, β (0.5, 0.999).",
      },
      radam: {
        options: { learningRate: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 },
        rationale: "Paper: lr 2e-4, β (0.5, 0.999), eps 1e-8.",
      },
      msvag: {
        options: { learningRate: 2e-4, beta1: 0.5 },
        rationale: "Paper: lr 2e-4, β 0.5.",
      },
      fromage: {
        options: { learningRate: 1e-2 },
        rationale:
          "Fromage's step is relative (α·‖θ‖), so 2e-4 would barely move: lr 0.01, its authors' GAN setting.",
      },
      adabelief: {
        options: {
          learningRate: 2e-4,
          beta1: 0.5,
          beta2: 0.999,
          epsilon: 1e-12,
          weightDecay: 0,
          weightDecouple: false,
          rectify: false,
        },
        rationale: "Paper (small GAN): lr 2e-4, β (0.5, 0.999), eps 1e-12, no rectification.",
      },
    },
    wgan: WGAN_PAPER,
    "wgan-tuned": tunedTable(),
    "word-lm": LSTM_ONE_LAYER,
    "word-lm-deep": WORD_LM_DEEP,
  });

function deepFreeze(): void {
  for (const t of Object.values(HPARAMS)) {
    Object.freeze(t);
    for (const e of Object.values(t)) {
      Object.freeze(e);
      Object.freeze(e.options);
    }
  }
  for (const s of Object.values(TASK_SETTINGS)) {
    Object.freeze(s);
    Object.freeze(s.values);
    Object.freeze(s.rationale);
  }
}
deepFreeze();

/**
 * The settings of one (task, optimizer) cell, as a fresh copy. `learningRate`, when given (an LR sweep),
 * replaces the table's initial learning rate.
 *
 * @throws RangeError naming the task or optimizer when unknown, or the learning rate when not a finite number > 0.
 */
export function hyperparameters(
  task: HParamTask,
  optimizer: OptimizerName,
  learningRate?: number,
): HParamEntry {
  const row = (HPARAMS as Record<string, Record<string, HParamEntry> | undefined>)[task];
  if (!row)
    throw new RangeError(`hyperparameters: unknown task ${JSON.stringify(task)} (expected cnn, lstm or gan)`);
  const cell = row[optimizer];
  if (!cell) {
    throw new RangeError(
      `hyperparameters: unknown optimizer ${JSON.stringify(optimizer)} (expected one of ${OPTIMIZERS.join(", ")})`,
    );
  }
  if (learningRate !== undefined && !(Number.isFinite(learningRate) && learningRate > 0)) {
    throw new RangeError(`hyperparameters: learningRate must be a finite number > 0, got ${learningRate}`);
  }
  return {
    options: { ...cell.options, ...(learningRate !== undefined ? { learningRate } : {}) },
    rationale:
      learningRate !== undefined
        ? `${cell.rationale} (learning rate overridden to ${learningRate})`
        : cell.rationale,
  };
}

function formatValue(v: number | boolean | string): string {
  if (typeof v !== "number") return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4)) return v.toExponential().replace("e+", "e");
  return String(v);
}

/**
 * A Markdown table of one task's settings: a row per optimizer (options and rationale), followed by the
 * task-wide settings. Reports print it next to the results.
 */
export function hparamTable(task: HParamTask): string {
  if (!(task in HPARAMS))
    throw new RangeError(`hparamTable: unknown task ${JSON.stringify(task)} (expected cnn, lstm or gan)`);
  const lines = ["| optimizer | settings | rationale |", "|---|---|---|"];
  for (const name of OPTIMIZERS) {
    const { options, rationale } = HPARAMS[task][name];
    const settings = Object.entries(options)
      .map(([k, v]) => `${k} ${formatValue(v)}`)
      .join(", ");
    lines.push(`| ${name} | ${settings} | ${rationale} |`);
  }
  lines.push("", "| shared setting | value | rationale |", "|---|---|---|");
  const s = TASK_SETTINGS[task];
  for (const [k, v] of Object.entries(s.values))
    lines.push(`| ${k} | ${formatValue(v)} | ${s.rationale[k] ?? ""} |`);
  return lines.join("\n");
}
