/*
 * task_mathans.h - checking a math answer against a reference: the last \boxed{} of a response,
 * a normalisation in the spirit of the Hendrycks MATH / Qwen2.5-Math evaluation
 * (`strip_string`), and an equivalence test. Pure C, no allocation, no state.
 *
 * Extraction: the last "\boxed" or "\fbox" of the text. "\boxed{...}" takes the balanced
 * braces (escaped \{ \} are not counted); an unbalanced last box means "no answer", an
 * earlier box is not used instead. "\boxed 5" (no braces) takes the run of characters after
 * the spaces up to the next space, '$' or end of text.
 *
 * Normalisation (math_normalize), in order:
 *   newlines and tabs -> spaces; trailing spaces and '.' dropped; \! \, \; \: \displaystyle
 *   dropped, "{,}" -> ","; \dfrac \tfrac -> \frac; \neq \leq \geq -> \ne \le \ge; \left
 *   \right dropped; \{ \} -> { }; a trailing \text{..} / \mbox{..} after a non-empty answer
 *   dropped (a unit: "5\text{ cm}"); \text \textbf \textit \textnormal \mbox \mathrm \mathbf
 *   unwrapped; ^\circ ^{\circ} \circ \degree and the degree sign dropped; \$ $ \( \) dropped;
 *   \% and % dropped (so 50% equals 50); a unit word at the end after a number ("cm",
 *   "inches", "dollars", "degrees", "square feet", with ^2/^3) dropped; a single variable
 *   assignment "x = rhs" or "x \in rhs" (the left side one letter or one \command) -> rhs;
 *   the word "and" between items -> ","; \emptyset \varnothing -> {}; infinity, inf ->
 *   \infty, "+\infty" -> "\infty"; spaces dropped; "(-\infty,\infty)" -> \mathbb{R};
 *   array/bmatrix -> pmatrix; ".5" -> "0.5"; trailing decimal zeros dropped (2.50 -> 2.5,
 *   3.0 -> 3); thousands separators dropped when the whole answer is one number written
 *   with them ("1,000" and "11,111,100", not "1,2"); \sqrt2 -> \sqrt{2} (one token, as
 *   LaTeX reads it); \frac12, \frac1{72}, \frac{a}b -> \frac{1}{2} ...; a whole "a/b" of
 *   integers -> \frac{a}{b}; outer braces around a whole answer without a comma dropped.
 *   Not done (conservative): number words ("five"), j -> i, lower-casing, \pi -> 3.14,
 *   units of one letter ("5 m"), symbolic algebra (x+1 vs 1+x).
 *
 * Equivalence (math_equal), after normalising both sides:
 *   - assignments with different left sides ("x=5" vs "y=5") never match; "x=5" vs "5" does;
 *   - equal texts match;
 *   - numbers: integers, decimals, \frac{a}{b} of integers or decimals, -\frac{a}{b},
 *     mixed numbers "1\frac{4}{5}". When neither side has a decimal point, or either side is
 *     a fraction, they are compared exactly as rationals (0.5 = \frac12, 0.333 != \frac13);
 *     two decimals (or a decimal and an integer) match within relative 1e-6. Percentages
 *     are not converted: 50% vs 0.5 does not match;
 *   - tuples and intervals "(a,b]" compare element by element with the same brackets;
 *     sets "{a,b}" and bare lists "a, b" in any order; pmatrix cell by cell.
 * Inputs longer than MATH_TEXT_MAX - 1 bytes are not normalised (math_normalize returns -1)
 * and match only when byte-identical after trimming.
 */
#ifndef ATTNRL_TASK_MATHANS_H
#define ATTNRL_TASK_MATHANS_H

#include <stddef.h>

#define MATH_TEXT_MAX 1024 /* longest answer handled, bytes with the NUL */

/* the content of the last \boxed / \fbox of text: 1 and (*begin, *len), or 0 */
int math_last_boxed(const char *text, const char **begin, size_t *len);
/* s normalised into out (cap bytes): the length, or -1 when s or the result does not fit */
int math_normalize(const char *s, char *out, size_t cap);
/* 1 when the answer given is equivalent to the reference, else 0 */
int math_equal(const char *given, const char *reference);
/* 1.0 when the last \boxed{} of response equals reference, else 0.0 (no partial credit);
 * *correct (may be NULL) is 1 on a match */
double math_reward(const char *response, const char *reference, int *correct);

#endif
