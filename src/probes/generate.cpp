// The probe generators (see generate.h; templates and definitions in docs/probes.md).
#include "probes/generate.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "core/error.h"
#include "probes/probe_data.h"
#include "stats/bootstrap.h"

namespace lossgap::probes {

std::vector<std::string> embedded_lines(std::string_view name) {
  for (const EmbeddedFile& f : embedded_files()) {
    if (name == f.name) return {f.lines.begin(), f.lines.end()};
  }
  LG_CHECK(false, "no embedded probe data file " + std::string(name));
  return {};
}

namespace {

struct TaskName {
  Task task;
  const char* name;
};
constexpr TaskName kTaskNames[] = {
    {Task::Pronoun, "pronoun"},           {Task::Entity, "entity"},
    {Task::ClosureBracket, "closure-bracket"}, {Task::ClosureHtml, "closure-html"},
    {Task::ClosureLatex, "closure-latex"},     {Task::Recall, "recall"},
    {Task::Copy, "copy"},
};

// The word lists and filler sentences, read once from the embedded data.
struct Lists {
  std::vector<std::string> female, male, roles, objects, animals, colors, html_tags, latex_envs;
  std::vector<std::vector<std::string>> filler;  // [sentences][words]
  std::unordered_set<std::string> probed;        // probed_words_in's vocabulary
};

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> w;
  size_t i = 0;
  while (i < s.size()) {
    const size_t j = s.find(' ', i);
    const size_t e = j == std::string::npos ? s.size() : j;
    if (e > i) w.push_back(s.substr(i, e - i));
    i = e + 1;
  }
  return w;
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

const Lists& lists() {
  static const Lists l = [] {
    Lists x;
    x.female = embedded_lines("names_female.txt");
    x.male = embedded_lines("names_male.txt");
    x.roles = embedded_lines("roles.txt");
    x.objects = embedded_lines("objects.txt");
    x.animals = embedded_lines("animals.txt");
    x.colors = embedded_lines("box_colors.txt");
    x.html_tags = embedded_lines("html_tags.txt");
    x.latex_envs = embedded_lines("latex_envs.txt");
    for (const std::string& s : embedded_lines("filler.txt")) x.filler.push_back(split_words(s));
    for (const auto* list : {&x.female, &x.male, &x.roles, &x.objects, &x.animals, &x.colors, &x.html_tags,
                             &x.latex_envs}) {
      for (const std::string& w : *list) {
        const std::string lw = lower(w);
        x.probed.insert(lw);
        x.probed.insert(lw + "s");
        x.probed.insert(lw + "es");
      }
    }
    // Gendered pronouns (the pronoun task's answers) and the tasks' template words.
    for (const char* w : {"he", "she", "him", "her", "his", "hers", "himself", "herself", "box", "boxes", "swap",
                          "partner"}) {
      x.probed.insert(w);
    }
    LG_CHECK(x.female.size() >= 1 && x.male.size() >= 1 && x.roles.size() >= 2 &&
                 x.objects.size() >= Generator::kRecallPairs && x.animals.size() >= Generator::kRecallPairs && x.colors.size() >= 3 && x.html_tags.size() >= 3 &&
                 x.latex_envs.size() >= 3 && !x.filler.empty(),
             "embedded probe word lists too short");
    return x;
  }();
  return l;
}

uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// The seed of one instance: a hash of (seed, task, distance, index, stream) so instances do not
// depend on which others are generated. stream 0 draws the probe's words, 1 its filler.
uint64_t instance_seed(uint64_t seed, Task task, int64_t distance, uint64_t index, uint64_t stream) {
  uint64_t h = splitmix(seed);
  h = splitmix(h ^ static_cast<uint64_t>(task));
  h = splitmix(h ^ static_cast<uint64_t>(distance));
  h = splitmix(h ^ index);
  return splitmix(h ^ stream);
}

// k distinct indices of [0, n), in random order (partial Fisher-Yates).
std::vector<size_t> sample_indices(Rng& rng, size_t n, size_t k) {
  LG_CHECK(k <= n, "sample larger than its list");
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  for (size_t i = 0; i < k; ++i) {
    const size_t j = i + static_cast<size_t>(rng.below(n - i));
    std::swap(idx[i], idx[j]);
  }
  idx.resize(k);
  return idx;
}

// k distinct elements of v, in random order.
std::vector<std::string> sample(Rng& rng, const std::vector<std::string>& v, size_t k) {
  std::vector<std::string> out;
  for (size_t i : sample_indices(rng, v.size(), k)) out.push_back(v[i]);
  return out;
}

const char* article(const std::string& noun) {
  return std::string_view("aeiou").find(noun.front()) != std::string_view::npos ? "an" : "a";
}

// One query of a task's text: what comes before its target (after the previous query's target,
// or after the filler for the first), and its continuations ([0] the target).
struct QueryPart {
  std::string before;
  std::vector<std::string> continuations;
  ByteSpan antecedent;  // within head
};

// A task's text around the filler: text = head + sep + filler + filler_end + for each query
// (before + target); sep and filler_end only when there is filler.
struct Parts {
  std::string head;
  std::string sep;
  std::string filler_end;
  std::vector<QueryPart> queries;
};

ByteSpan span_of(size_t start, size_t len) {
  return {static_cast<uint32_t>(start), static_cast<uint32_t>(start + len)};
}

Parts pronoun(Rng& rng) {
  const Lists& l = lists();
  const std::string f = sample(rng, l.female, 1)[0];
  const std::string m = sample(rng, l.male, 1)[0];
  const std::vector<std::string> roles = sample(rng, l.roles, 2);
  const bool female_first = rng.below(2) == 0;
  const std::string n1 = female_first ? f : m, n2 = female_first ? m : f;
  const std::string p1 = female_first ? "she" : "he", p2 = female_first ? "he" : "she";
  Parts p;
  p.head = n1 + " is " + article(roles[0]) + " " + roles[0] + ", and " + p1 + " lives in the village. " + n2 +
           " is " + article(roles[1]) + " " + roles[1] + ", and " + p2 + " lives in the village too.";
  p.sep = " ";
  p.filler_end = ".";
  const size_t q = static_cast<size_t>(rng.below(2));
  const std::string answer = q == 0 ? p1 : p2;
  p.queries.push_back({" One morning the " + roles[q] + " said that", {" " + answer, answer == "she" ? " he" : " she"},
                       span_of(0, p.head.size())});
  return p;
}

Parts entity(Rng& rng) {
  const Lists& l = lists();
  const std::vector<std::string> obj = sample(rng, l.objects, 3);
  const std::vector<std::string> col = sample(rng, l.colors, 3);
  // Swap two of the three objects; the query names the box of one of them.
  const size_t a = static_cast<size_t>(rng.below(3));
  const size_t b = (a + 1 + static_cast<size_t>(rng.below(2))) % 3;
  const bool query_a = rng.below(2) == 0;
  const size_t box = query_a ? a : b;             // the queried box: initially holds obj[box]
  const size_t answer = query_a ? b : a;          // after the swap it holds the other one
  Parts p;
  p.head = "The " + obj[0] + " is in the " + col[0] + " box, the " + obj[1] + " is in the " + col[1] +
           " box, and the " + obj[2] + " is in the " + col[2] + " box. Then the " + obj[a] + " and the " + obj[b] +
           " swap boxes.";
  p.sep = " ";
  p.filler_end = ".";
  QueryPart q{" Now the " + col[box] + " box holds the", {" " + obj[answer]}, span_of(0, p.head.size())};
  for (size_t i = 0; i < 3; ++i) {
    if (i != answer) q.continuations.push_back(" " + obj[i]);
  }
  p.queries.push_back(std::move(q));
  return p;
}

Parts closure_bracket(Rng& rng) {
  static const char* const kOpen[] = {"(", "[", "{"};
  static const char* const kClose[] = {")", "]", "}"};
  const size_t k = static_cast<size_t>(rng.below(3));
  Parts p;
  p.head = std::string("The guide adds a short note ") + kOpen[k];
  QueryPart q{"", {kClose[k]}, span_of(p.head.size() - 1, 1)};
  for (size_t i = 0; i < 3; ++i) {
    if (i != k) q.continuations.push_back(kClose[i]);
  }
  p.queries.push_back(std::move(q));
  return p;
}

Parts closure_markup(Rng& rng, const std::vector<std::string>& names, bool html) {
  const std::vector<std::string> pick = sample(rng, names, 3);
  const auto open = [&](const std::string& n) { return html ? "<" + n + ">" : "\\begin{" + n + "}"; };
  const auto close = [&](const std::string& n) { return html ? "</" + n + ">" : "\\end{" + n + "}"; };
  Parts p;
  p.head = open(pick[0]) + "\n";
  p.filler_end = ".";
  QueryPart q{"\n", {}, span_of(0, p.head.size() - 1)};
  for (const std::string& n : pick) q.continuations.push_back(close(n));
  p.queries.push_back(std::move(q));
  return p;
}

Parts recall(Rng& rng) {
  // Multi-query associative recall (Zoology's MQAR): kRecallPairs key-value pairs, then
  // kRecallQueries of the keys in random order, each followed by its value (so a later query
  // sees the earlier answers, as in MQAR). Every value of the list but the answer is a
  // distractor; each query's antecedent is its own pair.
  constexpr size_t K = Generator::kRecallPairs, Q = Generator::kRecallQueries;
  const Lists& l = lists();
  const std::vector<std::string> keys = sample(rng, l.objects, K);
  const std::vector<std::string> values = sample(rng, l.animals, K);
  const std::vector<size_t> asked = sample_indices(rng, K, Q);  // the queried pairs, in query order
  Parts p;
  p.head = "Each thing has a partner:";
  std::vector<ByteSpan> pair(K);
  for (size_t i = 0; i < K; ++i) {
    p.head += i == 0 ? " " : i == K - 1 ? ", and " : ", ";
    const size_t start = p.head.size();
    p.head += "the " + keys[i] + " goes with the " + values[i];
    pair[i] = span_of(start, p.head.size() - start);
  }
  p.head += ".";
  p.sep = " ";
  p.filler_end = ".";
  for (size_t j = 0; j < Q; ++j) {
    const size_t i = asked[j];
    QueryPart q{std::string(j == 0 ? " So the " : j == Q - 1 ? ", and the " : ", the ") + keys[i] + " goes with the",
                {" " + values[i]}, pair[i]};
    for (size_t o = 0; o < K; ++o) {
      if (o != i) q.continuations.push_back(" " + values[o]);
    }
    p.queries.push_back(std::move(q));
  }
  return p;
}

std::string join_from(const std::vector<std::string>& w, size_t from) {
  std::string s;
  for (size_t i = from; i < w.size(); ++i) s += " " + w[i];
  return s;
}

Parts copy(Rng& rng) {
  constexpr size_t kWords = 10, kCue = 2, kDistractors = 2;
  const Lists& l = lists();
  std::vector<std::string> pool = l.objects;
  pool.insert(pool.end(), l.animals.begin(), l.animals.end());
  const std::vector<std::string> w = sample(rng, pool, kWords);
  Parts p;
  p.head = "Read these words:";
  const size_t start = p.head.size() + 1;
  p.head += join_from(w, 0);
  const ByteSpan antecedent = span_of(start, p.head.size() - start);
  p.head += ".";
  p.sep = " ";
  p.filler_end = ".";
  QueryPart q{" Read the words once more:" + join_from({w.begin(), w.begin() + kCue}, 0), {join_from(w, kCue)},
              antecedent};
  // Distractors: the same words in other orders (so only the order tells them apart).
  std::vector<std::string> rest(w.begin() + kCue, w.end());
  while (q.continuations.size() < 1 + kDistractors) {
    for (size_t i = rest.size() - 1; i > 0; --i) std::swap(rest[i], rest[static_cast<size_t>(rng.below(i + 1))]);
    const std::string c = join_from(rest, 0);
    if (std::find(q.continuations.begin(), q.continuations.end(), c) == q.continuations.end()) {
      q.continuations.push_back(c);
    }
  }
  p.queries.push_back(std::move(q));
  return p;
}

Parts make_parts(Task t, Rng& rng) {
  const Lists& l = lists();
  switch (t) {
    case Task::Pronoun: return pronoun(rng);
    case Task::Entity: return entity(rng);
    case Task::ClosureBracket: return closure_bracket(rng);
    case Task::ClosureHtml: return closure_markup(rng, l.html_tags, true);
    case Task::ClosureLatex: return closure_markup(rng, l.latex_envs, false);
    case Task::Recall: return recall(rng);
    case Task::Copy: return copy(rng);
  }
  LG_CHECK(false, "unknown task");
  return {};
}

// The instance's filler words: the filler sentences in a random order, reshuffled each time
// they are used up, so any length is available.
class FillerWords {
 public:
  explicit FillerWords(uint64_t seed) : rng_(seed) {}
  const std::vector<std::string>& first(size_t n) {
    const auto& sentences = lists().filler;
    while (words_.size() < n) {
      std::vector<size_t> order(sentences.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[static_cast<size_t>(rng_.below(i + 1))]);
      for (size_t s : order) words_.insert(words_.end(), sentences[s].begin(), sentences[s].end());
    }
    return words_;
  }

 private:
  Rng rng_;
  std::vector<std::string> words_;
};

// The first n filler words as text; the last word loses its trailing punctuation so that
// filler_end (or the continuation) follows a letter.
std::string filler_text(FillerWords& fw, size_t n) {
  const std::vector<std::string>& w = fw.first(n);
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += ' ';
    s += w[i];
  }
  while (!s.empty() && !((s.back() >= 'a' && s.back() <= 'z') || (s.back() >= 'A' && s.back() <= 'Z'))) s.pop_back();
  return s;
}

}  // namespace

const char* task_name(Task t) {
  for (const TaskName& n : kTaskNames) {
    if (n.task == t) return n.name;
  }
  LG_CHECK(false, "unknown task");
  return "";
}

Task parse_task(std::string_view s, const std::string& where) {
  std::string known;
  for (const TaskName& n : kTaskNames) {
    if (s == n.name) return n.task;
    if (!known.empty()) known += ", ";
    known += n.name;
  }
  throw InputError(where, "unknown probe task '" + std::string(s) + "' (expected one of: " + known + ")");
}

std::vector<Task> all_tasks() {
  std::vector<Task> t;
  for (const TaskName& n : kTaskNames) t.push_back(n.task);
  return t;
}

std::optional<SpanTokens> locate_span(const Encoding& enc, ByteSpan span, ByteSpan antecedent) {
  LG_CHECK(antecedent.end <= span.start && span.start < span.end, "locate_span: span after its antecedent");
  const auto& off = enc.offsets;
  size_t first = off.size();
  for (size_t i = 0; i < off.size(); ++i) {
    if (off[i].second > span.start) {
      first = i;
      break;
    }
  }
  if (first == off.size() || off[first].first != span.start) return std::nullopt;
  size_t last = first;
  while (last + 1 < off.size() && off[last + 1].first < span.end) ++last;
  if (off[last].second != span.end) return std::nullopt;
  SpanTokens s;
  s.first = first;
  s.n_tokens = last - first + 1;
  bool found = false;
  for (size_t i = 0; i < first; ++i) {
    if (off[i].first < antecedent.end) {
      s.antecedent_last = i;
      found = true;
    }
  }
  LG_CHECK(found, "antecedent outside the prefix");
  return s;
}

int64_t ProbeInstance::measured_distance() const {
  LG_CHECK(!queries.empty(), "a probe without queries");
  int64_t d = queries[0].measured_distance;
  for (const ProbeQuery& q : queries) d = std::min(d, q.measured_distance);
  return d;
}

Generator::Generator(const Tokenizer& measure, uint64_t seed) : tok_(measure), seed_(seed) {}

std::optional<ProbeInstance> Generator::make(Task task, int64_t distance, uint64_t index) const {
  LG_CHECK(distance >= 1, "probe distance must be >= 1");
  Rng rng(instance_seed(seed_, task, distance, index, 0));
  const Parts parts = make_parts(task, rng);
  FillerWords fw(instance_seed(seed_, task, distance, index, 1));

  // The instance with `words` filler words, distances not yet measured.
  const auto build = [&](size_t words) {
    ProbeInstance inst;
    inst.task = task;
    inst.distance = distance;
    inst.index = index;
    inst.text = parts.head;
    inst.filler = span_of(inst.text.size(), 0);
    if (words > 0) {
      inst.text += parts.sep;
      const size_t start = inst.text.size();
      inst.text += filler_text(fw, words);
      inst.filler = span_of(start, inst.text.size() - start);
      inst.text += parts.filler_end;
    }
    inst.filler_words = static_cast<int64_t>(words);
    for (const QueryPart& q : parts.queries) {
      inst.text += q.before;
      inst.queries.push_back({static_cast<uint32_t>(inst.text.size()), q.continuations, q.antecedent, 0});
      inst.text += q.continuations[0];
    }
    return inst;
  };
  // Measures every query's distance in place; false when a target is not at token boundaries.
  const auto measure = [&](ProbeInstance& inst) {
    const Encoding enc = tok_.encode(inst.text, false);
    for (ProbeQuery& q : inst.queries) {
      const ByteSpan target = span_of(q.at, q.continuations[0].size());
      const std::optional<SpanTokens> s = locate_span(enc, target, q.antecedent);
      if (!s) return false;
      q.measured_distance = s->distance();
    }
    return true;
  };
  // The least distance over the queries with `words` filler words (nullopt: not at boundaries).
  const auto distance_with = [&](size_t words) -> std::optional<int64_t> {
    ProbeInstance inst = build(words);
    if (!measure(inst)) return std::nullopt;
    return inst.measured_distance();
  };

  std::optional<int64_t> d0 = distance_with(0);
  if (!d0) return std::nullopt;
  size_t words = 0;
  if (*d0 < distance) {
    // First guess from the filler's own tokens: the fewest words whose tokens (in " " + filler,
    // counted up to each word's end) reach the missing distance; then walk to the least
    // sufficient count with the real text.
    const size_t need = static_cast<size_t>(distance - *d0);
    const std::string f = " " + filler_text(fw, need + 1);
    const Encoding fe = tok_.encode(f, false);
    size_t w = 0, tokens = 0;
    for (size_t pos = 1; pos <= f.size() && tokens < need; ++pos) {
      if (pos != f.size() && f[pos] != ' ') continue;  // pos = the end of a word
      ++w;
      while (tokens < fe.offsets.size() && fe.offsets[tokens].first < pos) ++tokens;
    }
    words = std::max<size_t>(w, 1);
    std::optional<int64_t> d = distance_with(words);
    if (!d) return std::nullopt;
    while (*d < distance) {
      d = distance_with(++words);
      if (!d) return std::nullopt;
    }
    while (words > 1) {
      const std::optional<int64_t> less = distance_with(words - 1);
      if (!less || *less < distance) break;
      --words;
      d = less;
    }
  }

  ProbeInstance inst = build(words);
  LG_CHECK(measure(inst), "probe distance vanished on rebuild");
  const std::string_view filler(inst.text.data() + inst.filler.start, inst.filler.end - inst.filler.start);
  LG_CHECK(probed_words_in(filler).empty() && !structural_char_in(filler),
           "the probe filler holds a probed word or a structural character");
  return inst;
}

std::vector<std::string> probed_words_in(std::string_view text) {
  const Lists& l = lists();
  std::set<std::string> found;
  size_t i = 0;
  while (i < text.size()) {
    const auto is_letter = [&](size_t k) {
      const char c = text[k];
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    };
    if (!is_letter(i)) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && is_letter(j)) ++j;
    const std::string w = lower(std::string(text.substr(i, j - i)));
    if (l.probed.count(w)) found.insert(w);
    i = j;
  }
  return {found.begin(), found.end()};
}

std::optional<size_t> structural_char_in(std::string_view text) {
  const size_t p = text.find_first_of("()[]{}<>\\");
  if (p == std::string_view::npos) return std::nullopt;
  return p;
}

}  // namespace lossgap::probes
