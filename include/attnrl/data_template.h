/*
 * data_template.h - prompt templates: how a question becomes the text the model is prompted with
 * (data.template). Rendering is text only: a chat template's special tokens ("<|im_start|>")
 * are found in the text by the tokenizer, which splits added tokens out before BPE.
 *
 * A template is a built-in name or a string holding {question} at least once. "{{" and "}}"
 * stand for "{" and "}" (as in Python's str.format); a lone "}" is itself; any other {name}
 * is an error, so is a "{" that is not closed. Built-ins:
 *   plain        {question}
 *   paper        {question}\nPlease reason step by step, and put your final answer within
 *                \boxed{}.
 *                the base-model prompt of the Qwen2.5-Math evaluation ("mathstral" there)
 *                and of SimpleRL-Zoo's base-model runs: the question, one newline, the
 *                instruction; no chat markup, nothing after the final '.'
 *   qwen-chat    <|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n
 *   llama3-chat  <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{question}
 *                <|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n
 *                (one line; it starts with Llama 3's BOS, so data_encode adds no second one;
 *                the question is stripped of leading and trailing whitespace, Unicode's
 *                included, as Llama 3's chat template does with `| trim`)
 *   tinyzero     A conversation between User and Assistant. The user asks a question, and the
 *                Assistant solves it. The assistant first thinks about the reasoning process
 *                in the mind and then provides the user with the answer.\nUser: {question}\n
 *                Assistant: Let me solve this step by step.\n<think>
 *                (TinyZero's base-model Countdown prompt; the response continues the <think>)
 */
#ifndef ATTNRL_DATA_TEMPLATE_H
#define ATTNRL_DATA_TEMPLATE_H

#include <stddef.h>

#define TEMPLATE_MAX 1024 /* bytes of a template's text, NUL included */

struct template {
	char text[TEMPLATE_MAX]; /* the template string (a built-in's expansion) */
	int n_question;          /* occurrences of {question} */
	size_t fixed_len;        /* bytes rendered besides the questions */
	int trim;                /* questions stripped of surrounding whitespace (llama3-chat) */
};

/* spec: a built-in name or a template string; 0, or -1 with one line in err */
int template_init(struct template *t, const char *spec, char *err, size_t n);
/* the template with question in place: the length, or -1 when it does not fit in cap */
int template_render(const struct template *t, const char *question, char *out, size_t cap);
/* the text of a built-in template, or NULL */
const char *template_builtin(const char *name);

#endif
