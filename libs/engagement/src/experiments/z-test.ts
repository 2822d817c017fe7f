/**
 * The two-proportion z-test (pooled), hand-written: a dozen lines of textbook statistics, and
 * none of the installed packages has it.
 */
export interface Proportion {
  successes: number;
  trials: number;
}

export interface ZTest {
  /** (p1 − p2) / standard error; positive when the first proportion is the higher. */
  z: number;
  /** Two-sided p-value. */
  p: number;
}

/** z and two-sided p of H0 "both proportions are equal"; null when either has no trials or both rates are 0 or 1. */
export function twoProportionZTest(a: Proportion, b: Proportion): ZTest | null {
  if (a.trials <= 0 || b.trials <= 0) return null;
  const p1 = a.successes / a.trials;
  const p2 = b.successes / b.trials;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  if (se === 0) return null;
  const z = (p1 - p2) / se;
  return { z, p: Math.min(1, 2 * normalTail(Math.abs(z))) };
}

/** P(Z > x) for a standard normal Z: erfc(x / √2) / 2. */
export function normalTail(x: number): number {
  return erfc(x / Math.SQRT2) / 2;
}

/**
 * The complementary error function, by the Chebyshev fit of Numerical Recipes (erfcc):
 * fractional error below 1.2e-7 everywhere, ample for p-values.
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
