/*
 * test_data_jsonl.c - JSONL datasets (data_jsonl.h), their service by data.c (held-out split, the
 * seeded epoch order, eval_size, skipped rows) and prompt templates (data_template.h).
 * Oracles: hand-written files with known rows and errors; for the real files under
 * ../shared/data (skipped when absent), the row count of the file, each row re-read with the
 * JSON reader and the answer cut by hand ("#### "), and the authors' own worked solutions,
 * whose \boxed{} answer must match the reference; the chat formats as Qwen and Meta publish
 * them.
 */
#include "attnrl/data.h"
#include "attnrl/data_jsonl.h"
#include "attnrl/data_template.h"
#include "attnrl/json.h"
#include "attnrl/task_mathans.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp_dir[] = "/tmp/test_data_jsonl.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[8][256];
	static int next;
	char *p = path[next++ % 8];
	snprintf(p, 256, "%s/%s", tmp_dir, name);
	FILE *f = fopen(p, "w");
	CHECK(f, "cannot write %s", p);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return p;
}

static const struct dataset_opts auto_opts = { "auto", "auto", "auto" };

static void test_rows(void)
{
	const char *path = write_file(
		"rows.jsonl",
		"{\"question\": \"What is 1+1?\", \"answer\": \"1+1=<<1+1=2>>2 apples.\\n#### 2\"}\n"
		"\n"
		"   \n"
		"{\"question\": \"Big?\", \"answer\": \"first #### 5 then\\n#### 1,000 \"}\n"
		"{\"question\": \"q3\", \"answer\": \"so \\\\boxed{\\\\frac{1}{2}} it is\"}\r\n"
		"{\"question\": \"q4\", \"answer\": \" plain 7 \", \"subject\": \"Algebra\", \"level\": 3}\n"
		"{\"question\": \"q5\", \"answer\": 27.0}\n"
		"{\"question\": \"q6\", \"answer\": 0.25}");
	struct dataset ds;
	char err[512] = "";
	CHECK(dataset_load(&ds, path, &auto_opts, err, sizeof(err)) == 0, "load: %s", err);
	CHECK(ds.n == 6, "rows %d", ds.n);
	if (ds.n != 6)
		return;
	const char *answers[] = { "2", "1,000", "\\frac{1}{2}", "plain 7", "27", "0.25" };
	int lines[] = { 1, 4, 5, 6, 7, 8 };
	for (int i = 0; i < 6; i++) {
		CHECK(!strcmp(ds.rows[i].answer, answers[i]), "row %d answer '%s'", i, ds.rows[i].answer);
		CHECK(ds.rows[i].line == lines[i], "row %d line %d", i, ds.rows[i].line);
	}
	CHECK(!strcmp(ds.rows[0].question, "What is 1+1?"), "question");
	CHECK(ds.rows[0].solution &&
		      !strcmp(ds.rows[0].solution, "1+1=2 apples.\nThe answer is \\boxed{2}."),
	      "gsm8k solution: %s", ds.rows[0].solution);
	CHECK(!ds.rows[2].solution && !ds.rows[4].solution, "no solution field");
	CHECK(ds.rows[3].subject && !strcmp(ds.rows[3].subject, "Algebra") && ds.rows[3].level &&
		      !strcmp(ds.rows[3].level, "3") && !ds.rows[0].subject && !ds.rows[0].level,
	      "labels");
	CHECK(!strcmp(ds.prompt_field, "question") && !strcmp(ds.answer_field, "answer"), "fields");
	for (int i = 0; i < 6; i++)
		CHECK(ds.rows[i].eval == (task_hash(ds.rows[i].question) % TASK_EVAL_BUCKETS == 0),
		      "eval flag of row %d", i);
	/* from memory (an exact-size copy of the file): the same rows */
	struct dataset mem;
	FILE *f = fopen(path, "rb");
	char text[1024];
	size_t len = f ? fread(text, 1, sizeof(text), f) : 0;
	if (f)
		fclose(f);
	char *copy = malloc(len);
	memcpy(copy, text, len);
	int rc = dataset_parse(&mem, copy, len, "mem.jsonl", &auto_opts, err, sizeof(err));
	CHECK(rc == 0 && mem.n == ds.n, "dataset_parse: %s", err);
	for (int i = 0; i < mem.n && i < ds.n; i++)
		CHECK(!strcmp(mem.rows[i].question, ds.rows[i].question) &&
		      !strcmp(mem.rows[i].answer, ds.rows[i].answer) && mem.rows[i].line == ds.rows[i].line,
		      "dataset_parse row %d", i);
	if (!rc)
		dataset_free(&mem);
	CHECK(dataset_parse(&mem, "{\"question\": 1", 14, "mem.jsonl", &auto_opts, err,
			    sizeof(err)) == -1 && !strncmp(err, "mem.jsonl:1:", 12),
	      "dataset_parse error: '%s'", err);
	/* a NUL byte is not white space: the line is invalid JSON, as `attnrl eval --by` reads it
	 * (found by fuzz_jsonl: a leading NUL was trimmed, the row loaded, its label was lost) */
	static const char nul_row[] = "\0{\"question\": \"q\", \"answer\": \"1\"}\n";
	CHECK(dataset_parse(&mem, nul_row, sizeof(nul_row) - 1, "nul.jsonl", &auto_opts, err,
			    sizeof(err)) == -1 && !strncmp(err, "nul.jsonl:1:", 12),
	      "a NUL before a row: '%s'", err);
	free(copy);
	dataset_free(&ds);

	/* a million blank lines around one row: room is made for the row, not for every line
	 * (768 bytes a line once made 10M blank lines ask for 7.7 GB) */
	size_t blanks = 1000000, big_len = blanks + 64;
	char *big = malloc(big_len);
	memset(big, '\n', blanks);
	int k = snprintf(big + blanks, 64, "{\"question\": \"1+1?\", \"answer\": \"2\"}\n");
	big_len = blanks + (size_t)k;
	rc = dataset_parse(&mem, big, big_len, "blank.jsonl", &auto_opts, err, sizeof(err));
	CHECK(rc == 0 && mem.n == 1 && mem.rows[0].line == (int)blanks + 1 && mem.mem_cap < 2 * big_len,
	      "blank lines: rc %d n %d, %zu bytes reserved for a %zu-byte file: %s", rc, mem.n,
	      mem.mem_cap, big_len, err);
	if (!rc)
		dataset_free(&mem);
	free(big);

	/* plain keeps "#### ", gsm8k refuses a row without it */
	struct dataset_opts plain = { "auto", "auto", "plain" };
	CHECK(dataset_load(&ds, path, &plain, err, sizeof(err)) == 0 &&
		      !strcmp(ds.rows[1].answer, "first #### 5 then\n#### 1,000"),
	      "plain: %s", ds.n ? ds.rows[1].answer : err);
	dataset_free(&ds);
}

static void test_fields(void)
{
	struct dataset ds;
	char err[512] = "";
	const char *math = write_file(
		"math.jsonl",
		"{\"problem\": \"P1\", \"solution\": \"Thus $\\\\boxed{\\\\dfrac{3}{4}}$.\", "
		"\"subject\": \"Geometry\", \"level\": 5}\n"
		"{\"problem\": \"P2\", \"solution\": \"It is \\\\boxed{7}.\"}\n");
	CHECK(dataset_load(&ds, math, &auto_opts, err, sizeof(err)) == 0, "math: %s", err);
	CHECK(ds.n == 2 && !strcmp(ds.prompt_field, "problem") && !strcmp(ds.answer_field, "solution"),
	      "math fields %s %s", ds.prompt_field, ds.answer_field);
	if (ds.n == 2) {
		CHECK(!strcmp(ds.rows[0].answer, "\\dfrac{3}{4}") && !strcmp(ds.rows[1].answer, "7"),
		      "boxed answers");
		CHECK(ds.rows[0].solution && !strcmp(ds.rows[0].solution, "Thus $\\boxed{\\dfrac{3}{4}}$."),
		      "solution kept");
		CHECK(!strcmp(ds.rows[0].level, "5") && !strcmp(ds.rows[0].subject, "Geometry"), "labels");
	}
	dataset_free(&ds);

	const char *both = write_file("both.jsonl",
				      "{\"prompt\": \"p\", \"problem\": \"pr\", \"question\": \"qu\", "
				      "\"answer\": \"1\", \"solution\": \"so 1\"}\n");
	CHECK(dataset_load(&ds, both, &auto_opts, err, sizeof(err)) == 0 && ds.n == 1 &&
		      !strcmp(ds.rows[0].question, "qu") && !strcmp(ds.rows[0].answer, "1"),
	      "auto picks question and answer: %s", err);
	CHECK(ds.n == 1 && ds.rows[0].solution && !strcmp(ds.rows[0].solution, "so 1\nThe answer is \\boxed{1}."),
	      "solution without a box gets one: %s", ds.n ? ds.rows[0].solution : "");
	dataset_free(&ds);
	struct dataset_opts named = { "prompt", "solution", "plain" };
	CHECK(dataset_load(&ds, both, &named, err, sizeof(err)) == 0 && ds.n == 1 &&
		      !strcmp(ds.rows[0].question, "p") && !strcmp(ds.rows[0].answer, "so 1"),
	      "named fields: %s", err);
	dataset_free(&ds);
}

static void expect_error(const char *name, const char *text, const struct dataset_opts *o,
			 const char *want1, const char *want2)
{
	struct dataset ds;
	char err[512] = "", where[300];
	const char *path = text ? write_file(name, text) : name;
	snprintf(where, sizeof(where), want1, path);
	int rc = dataset_load(&ds, path, o, err, sizeof(err));
	CHECK(rc == -1 && strstr(err, where) && (!want2 || strstr(err, want2)) && !strchr(err, '\n'),
	      "%s: rc %d, err '%s', want '%s' and '%s'", name, rc, err, where, want2 ? want2 : "");
	CHECK(ds.rows == NULL && ds.n == 0, "%s: freed on error", name);
}

static void test_errors(void)
{
	const char *good = "{\"question\": \"a\", \"answer\": \"1\"}\n";
	char text[512];
	snprintf(text, sizeof(text), "%s\n%s{\"question\": \"b\", \"answer\": \"2\"\n", good, good);
	expect_error("bad.jsonl", text, &auto_opts, "%s:4:", "invalid JSON");
	snprintf(text, sizeof(text), "%s{\"question\": \"b\", \"foo\": 1, \"bar\": 2}\n", good);
	expect_error("missing.jsonl", text, &auto_opts, "%s:2: no field 'answer'",
		     "(keys: question, foo, bar)");
	expect_error("noq.jsonl", "{\"text\": \"b\", \"answer\": 1}\n", &auto_opts, "%s:1:",
		     "data.prompt_field");
	snprintf(text, sizeof(text), "%s[1, 2]\n", good);
	expect_error("array.jsonl", text, &auto_opts, "%s:2: a row must be a JSON object", NULL);
	snprintf(text, sizeof(text), "%s{\"question\": \"b\", \"answer\": [1]}\n", good);
	expect_error("type.jsonl", text, &auto_opts, "%s:2: field 'answer' is a array", NULL);
	struct dataset_opts g = { "auto", "auto", "gsm8k" }, b = { "auto", "auto", "boxed" };
	expect_error("nohash.jsonl", good, &g, "%s:1: answer_format=gsm8k", "'#### '");
	expect_error("nobox.jsonl", good, &b, "%s:1: answer_format=boxed", "\\boxed{}");
	expect_error("unbalanced.jsonl", "{\"question\": \"a\", \"answer\": \"\\\\boxed{1\"}\n", &b,
		     "%s:1:", "\\boxed{}");
	expect_error("empty_answer.jsonl", "{\"question\": \"a\", \"answer\": \"x #### \"}\n",
		     &auto_opts, "%s:1: empty answer", NULL);
	expect_error("dup.jsonl", "{\"question\": \"a\", \"answer\": \"1\", \"answer\": \"2\"}\n",
		     &auto_opts, "%s:1:34: invalid JSON: duplicate key \"answer\"", NULL);
	expect_error("/tmp", NULL, &auto_opts, "'%s' is a directory; expected a JSONL file", NULL);
	expect_error("empty.jsonl", "\n\n", &auto_opts, "%s: no rows", NULL);
	expect_error("/nonexistent/x.jsonl", NULL, &auto_opts, "%s: cannot read", NULL);
}

/* a config for data_init on a file; the char tokenizer */
static void math_config(struct config *c, const char *path, const char *eval_path)
{
	config_init(c);
	snprintf(c->data.task, sizeof(c->data.task), "math");
	snprintf(c->data.path, sizeof(c->data.path), "%s", path);
	snprintf(c->data.eval_path, sizeof(c->data.eval_path), "%s", eval_path);
}

static char *many_rows(int n, const char *fmt)
{
	char *s = calloc((size_t)n, 128);
	size_t k = 0;
	for (int i = 0; s && i < n; i++)
		k += (size_t)snprintf(s + k, 128, fmt, i, i);
	return s;
}

static void test_split_and_order(struct tokenizer *tok)
{
	int n = 400;
	char *text = many_rows(n, "{\"question\": \"Problem %d: how many?\", \"answer\": \"%d\"}\n");
	const char *path = write_file("many.jsonl", text);
	free(text);
	struct config c;
	struct data d, e;
	char err[512] = "";
	math_config(&c, path, "");
	c.data.eval_size = 1000;
	CHECK(data_init(&d, &c, tok, err, sizeof(err)) == 0, "data_init: %s", err);
	CHECK(d.n_train + d.n_eval == n && d.n_eval >= n / 16 && d.n_eval <= n / 5,
	      "split %d + %d", d.n_train, d.n_eval);
	CHECK(d.eval_size == d.n_eval, "eval_size capped by rows: %d", d.eval_size);
	struct task_example ex;
	int prev = -1, order_ok = 1;
	for (int i = 0; i < d.n_eval; i++) {
		CHECK(data_eval_example(&d, i, &ex) == 0, "eval %d", i);
		int k = atoi(ex.answer);
		order_ok &= k > prev && task_hash(ex.prompt) % TASK_EVAL_BUCKETS == 0;
		prev = k;
	}
	CHECK(order_ok, "held-out rows: file order, hash bucket 0");
	CHECK(data_eval_example(&d, d.n_eval, &ex) == -1, "past the held-out rows");

	/* three epochs: each a permutation of the train rows, in different orders */
	int *seen = calloc((size_t)n, sizeof(int)), *first = calloc((size_t)d.n_train, sizeof(int));
	int differ = 0;
	for (int epoch = 0; epoch < 3; epoch++) {
		memset(seen, 0, (size_t)n * sizeof(int));
		for (int i = 0; i < d.n_train; i++) {
			CHECK(data_next_train(&d, &ex) == 0, "next");
			int k = atoi(ex.answer);
			CHECK(task_hash(ex.prompt) % TASK_EVAL_BUCKETS != 0 && !seen[k]++, "row %d", k);
			if (epoch == 0)
				first[i] = k;
			else
				differ += first[i] != k;
		}
	}
	CHECK(differ > d.n_train, "epochs in the same order (%d differ)", differ);
	/* the order is a function of (seed, cursor) */
	CHECK(data_init(&e, &c, tok, err, sizeof(err)) == 0, "second init: %s", err);
	e.cursor = d.n_train + 7;
	struct task_example a, b;
	d.cursor = d.n_train + 7;
	CHECK(data_next_train(&d, &a) == 0 && data_next_train(&e, &b) == 0 &&
		      !strcmp(a.prompt, b.prompt), "resume at a cursor");
	e.cursor = 0;
	data_next_train(&e, &b);
	CHECK(atoi(b.answer) == first[0], "fresh run repeats epoch 0");
	data_free(&e);
	c.data.seed = 99;
	CHECK(data_init(&e, &c, tok, err, sizeof(err)) == 0, "seed 99: %s", err);
	int same = 0;
	for (int i = 0; i < d.n_train; i++) {
		data_next_train(&e, &b);
		same += atoi(b.answer) == first[i];
	}
	CHECK(same < d.n_train / 4, "another seed, another order (%d same)", same);
	data_free(&e);
	data_free(&d);
	free(seen);
	free(first);

	/* eval_path: all of one file trains, all of the other is held out; eval_size caps */
	const char *small = write_file("small.jsonl", "{\"question\": \"x\", \"answer\": \"1\"}\n"
						      "{\"question\": \"y\", \"answer\": \"2\"}\n"
						      "{\"question\": \"z\", \"answer\": \"3\"}\n");
	math_config(&c, path, small);
	c.data.eval_size = 2;
	CHECK(data_init(&d, &c, tok, err, sizeof(err)) == 0, "eval_path: %s", err);
	CHECK(d.n_train == n && d.n_eval == 3 && d.eval_size == 2, "%d train, %d eval, size %d",
	      d.n_train, d.n_eval, d.eval_size);
	CHECK(data_eval_example(&d, 1, &ex) == 0 && !strcmp(ex.prompt, "y") && !strcmp(ex.answer, "2"),
	      "eval row 1");
	data_free(&d);
}

static void test_skips_and_errors(struct tokenizer *tok)
{
	char long_q[400];
	memset(long_q, 'w', sizeof(long_q) - 1);
	long_q[sizeof(long_q) - 1] = '\0';
	char text[2048];
	snprintf(text, sizeof(text),
		 "{\"question\": \"short\", \"answer\": \"1\"}\n"
		 "{\"question\": \"%s\", \"answer\": \"2\"}\n"
		 "{\"question\": \"caf\\u00e9\", \"answer\": \"3\"}\n", long_q);
	const char *path = write_file("skips.jsonl", text);
	struct config c;
	struct data d;
	char err[512] = "";
	math_config(&c, path, path);
	c.model.max_seq_len = 256;
	c.rollout.max_new_tokens = 64;
	CHECK(data_init(&d, &c, tok, err, sizeof(err)) == 0, "skips: %s", err);
	CHECK(d.n_train == 1 && d.n_eval == 1 && d.n_skipped == 4 && d.prompt_max == 192,
	      "%d train %d eval %d skipped, prompt_max %d", d.n_train, d.n_eval, d.n_skipped,
	      d.prompt_max);
	data_free(&d);
	c.model.max_seq_len = 16;
	c.rollout.max_new_tokens = 12;
	CHECK(data_init(&d, &c, tok, err, sizeof(err)) == -1 && strstr(err, "no usable train row"),
	      "nothing left: %s", err);
	math_config(&c, "", "");
	CHECK(data_init(&d, &c, tok, err, sizeof(err)) == -1 && strstr(err, "needs data.path"),
	      "no path: %s", err);
	CHECK(config_validate(&c, err, sizeof(err)) == -1 && strstr(err, "needs data.path"),
	      "config: %s", err);
	config_init(&c);
	snprintf(c.data.path, sizeof(c.data.path), "%s", path);
	CHECK(data_init(&d, &c, tok, err, sizeof(err)) == -1 && strstr(err, "are read by data.task=math, mcq or countdown"),
	      "path with arith: %s", err);
	config_init(&c);
	snprintf(c.data.template, sizeof(c.data.template), "Q: {problem}");
	CHECK(data_init(&d, &c, tok, err, sizeof(err)) == -1 && strstr(err, "{problem}"),
	      "template: %s", err);
	CHECK(config_validate(&c, err, sizeof(err)) == -1 && strstr(err, "unknown placeholder"),
	      "config template: %s", err);
}

static void expect_render(const char *spec, const char *q, const char *want)
{
	struct template t;
	char err[256] = "", out[512];
	CHECK(template_init(&t, spec, err, sizeof(err)) == 0, "%s: %s", spec, err);
	int k = template_render(&t, q, out, sizeof(out));
	CHECK(k == (int)strlen(want) && !strcmp(out, want), "%s: got '%s', want '%s'", spec, out,
	      want);
}

static void expect_template_error(const char *spec, const char *want)
{
	struct template t;
	char err[256] = "";
	CHECK(template_init(&t, spec, err, sizeof(err)) == -1 && strstr(err, want) &&
		      !strchr(err, '\n'), "'%s': err '%s', want '%s'", spec, err, want);
}

static void test_templates(struct tokenizer *tok)
{
	expect_render("plain", "What is 2+2?", "What is 2+2?");
	expect_render("paper", "What is 2+2?",
		      "What is 2+2?\nPlease reason step by step, and put your final answer within "
		      "\\boxed{}.");
	expect_render("qwen-chat", "Hi",
		      "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
	expect_render("llama3-chat", "Hi",
		      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
		      "<|start_header_id|>assistant<|end_header_id|>\n\n");
	/* Llama 3's chat template trims the message (Python's str.strip(): NBSP, ideographic space
	 * too); Qwen's keeps it */
	expect_render("llama3-chat", " \xc2\xa0\n Hi\tthere \xe3\x80\x80\n\t",
		      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi\tthere<|eot_id|>"
		      "<|start_header_id|>assistant<|end_header_id|>\n\n");
	expect_render("llama3-chat", " \n ", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>"
		      "\n\n<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
	expect_render("qwen-chat", " Hi\n", "<|im_start|>user\n Hi\n<|im_end|>\n<|im_start|>assistant\n");
	expect_render("plain", " Hi ", " Hi ");
	/* TinyZero's make_prefix(template_type="base"), examples/data_preprocess/countdown.py */
	expect_render("tinyzero", "Using the numbers [1, 2, 3], create an equation that equals 6.",
		      "A conversation between User and Assistant. The user asks a question, and the "
		      "Assistant solves it. The assistant first thinks about the reasoning process in "
		      "the mind and then provides the user with the answer.\nUser: Using the numbers "
		      "[1, 2, 3], create an equation that equals 6.\nAssistant: Let me solve this step "
		      "by step.\n<think>");
	expect_render("Q: {question} A:", "x{y}", "Q: x{y} A:");
	expect_render("{{literal}} {question}}} \\boxed{{}}", "q", "{literal} q} \\boxed{}");
	expect_render("{question} and again {question}", "q", "q and again q");
	expect_template_error("Q: {answer}", "unknown placeholder {answer}");
	expect_template_error("\\boxed{} {question}", "'{' at byte 6");
	expect_template_error("no placeholder", "neither a built-in");
	expect_template_error("{question", "'{' at byte 0");
	expect_template_error("papr", "neither a built-in");
	struct template t;
	char err[256], out[8];
	template_init(&t, "plain", err, sizeof(err));
	CHECK(template_render(&t, "123456789", out, sizeof(out)) == -1 && out[0] == 0, "no room");

	/* BOS: added when the tokenizer asks and the text does not begin with it */
	struct config c;
	struct data d;
	int32_t ids[512];
	config_init(&c);
	CHECK(data_init(&d, &c, tok, err, sizeof(err)) == 0, "arith init");
	CHECK(data_encode(&d, "1+2=", ids, 512, err, sizeof(err)) == 5 && ids[0] == tok->bos_id &&
		      ids[1] == tok->byte_id['1'], "plain: BOS then the text");
	struct tokenizer nobos = *tok;
	nobos.add_bos = 0;
	d.tok = &nobos;
	CHECK(data_encode(&d, "1+2=", ids, 512, err, sizeof(err)) == 4 && ids[0] == tok->byte_id['1'],
	      "add_bos=0: no BOS");
	struct tokenizer ltbos = *tok; /* pretend '<' is the BOS token, as <|begin_of_text|> is */
	ltbos.bos_id = tok->byte_id['<'];
	d.tok = &ltbos;
	template_init(&d.tpl, "llama3-chat", err, sizeof(err));
	int k = data_encode(&d, "Hi", ids, 512, err, sizeof(err));
	CHECK(k > 1 && ids[0] == ltbos.bos_id && ids[1] == tok->byte_id['|'], "no second BOS");
	template_init(&d.tpl, "paper", err, sizeof(err));
	k = data_encode(&d, "Hi", ids, 512, err, sizeof(err));
	CHECK(k == 1 + (int)strlen("Hi\nPlease reason step by step, and put your final answer "
				   "within \\boxed{}."),
	      "paper encodes BOS + text: %d", k);
	CHECK(data_encode(&d, "Hi", ids, 8, err, sizeof(err)) == -1 && strstr(err, "8 tokens"),
	      "too long: %s", err);
	data_free(&d);
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c, blank = 1;
	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF) {
		if (c == '\n') {
			n += !blank;
			blank = 1;
		} else if (c != ' ' && c != '\r' && c != '\t') {
			blank = 0;
		}
	}
	n += !blank;
	fclose(f);
	return n;
}

/* a real file: rows = non-blank lines; each answer as cut by hand from the raw JSON */
static void check_real(const char *path, const char *qfield, int gsm8k, int labels)
{
	struct dataset ds;
	char err[512] = "";
	int lines = count_lines(path);
	if (lines < 0) {
		printf("test_data_jsonl: %s absent, skipped\n", path);
		return;
	}
	CHECK(dataset_load(&ds, path, &auto_opts, err, sizeof(err)) == 0, "%s: %s", path, err);
	CHECK(ds.n == lines, "%s: %d rows, %d lines", path, ds.n, lines);
	CHECK(!strcmp(ds.prompt_field, qfield) && !strcmp(ds.answer_field, "answer"), "%s fields %s %s",
	      path, ds.prompt_field, ds.answer_field);
	FILE *f = fopen(path, "r");
	static char line[1 << 17];
	int i = 0, bad = 0, boxed_ok = 0, with_solution = 0, eval = 0;
	while (f && i < ds.n && fgets(line, sizeof(line), f)) {
		struct json *j = json_parse(line, strlen(line), err, sizeof(err));
		const struct dataset_row *r = &ds.rows[i++];
		const char *q = json_str(json_get(j, qfield)), *a = json_str(json_get(j, "answer"));
		char want[512];
		if (!a)
			snprintf(want, sizeof(want), "%g", json_num(json_get(j, "answer")));
		else if (gsm8k)
			snprintf(want, sizeof(want), "%s", strrchr(a, '#') + 2);
		else
			snprintf(want, sizeof(want), "%s", a);
		bad += !q || strcmp(q, r->question) || strcmp(want, r->answer);
		if (labels)
			bad += !r->subject || !r->level ||
			       strcmp(r->subject, json_str(json_get(j, "subject")));
		if (r->solution) {
			with_solution++;
			boxed_ok += math_reward(r->solution, r->answer, NULL) == 1.0;
			if (gsm8k)
				bad += strstr(r->solution, "<<") != NULL || strstr(r->solution, "####") != NULL;
		}
		eval += r->eval;
		json_free(j);
	}
	if (f)
		fclose(f);
	CHECK(bad == 0, "%s: %d rows differ from the file", path, bad);
	printf("test_data_jsonl: %s: %d rows, %d held out by hash, %d solutions, %d of them "
	       "boxing the reference\n", path, ds.n, eval, with_solution, boxed_ok);
	if (gsm8k)
		CHECK(with_solution == ds.n && boxed_ok == ds.n, "%s: solutions %d/%d", path, boxed_ok,
		      ds.n);
	if (labels)
		CHECK(boxed_ok >= with_solution * 98 / 100, "%s: solutions %d/%d", path, boxed_ok,
		      with_solution);
	if (ds.n > 1000)
		CHECK(eval > ds.n / 10 && eval < ds.n * 3 / 20, "%s: %d held out", path, eval);
	dataset_free(&ds);
}

int main(void)
{
	struct tokenizer tok;
	if (!mkdtemp(tmp_dir) || tokenizer_init_chars(&tok)) {
		fprintf(stderr, "test_data_jsonl: cannot set up\n");
		return 1;
	}
	test_rows();
	test_fields();
	test_errors();
	test_split_and_order(&tok);
	test_skips_and_errors(&tok);
	test_templates(&tok);
	check_real("../shared/data/gsm8k/train.jsonl", "question", 1, 0);
	check_real("../shared/data/gsm8k/test.jsonl", "question", 1, 0);
	check_real("../shared/data/math500/test.jsonl", "problem", 0, 1);
	check_real("../shared/data/aime24/test.jsonl", "question", 0, 0);
	check_real("../shared/data/amc23/test.jsonl", "question", 0, 0);
	tokenizer_free(&tok);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	if (system(cmd))
		fprintf(stderr, "test_data_jsonl: could not remove %s\n", tmp_dir);
	return check_done("test_data_jsonl");
}
