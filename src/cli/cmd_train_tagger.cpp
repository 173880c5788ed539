// `lossgap train-tagger`: trains the part-of-speech tagger on UD English (EWT + GUM train),
// picks the epoch on the dev splits, writes the model file and prints held-out accuracy.
// The training itself lives in tags/pos_train.*; this file only reads options and prints.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "tags/pos_train.h"

namespace lossgap::cli {
namespace {

struct TrainTaggerOptions {
  std::string ud_dir;
  std::string out;
  int epochs = PosTrainOptions{}.epochs;
  uint64_t seed = PosTrainOptions{}.seed;
  float prune = PosTrainOptions{}.prune;
};

std::vector<UdSentence> read_all(const std::filesystem::path& dir,
                                 std::initializer_list<const char*> names) {
  std::vector<UdSentence> all;
  for (const char* name : names) {
    std::vector<UdSentence> part = read_conllu(dir / name);
    all.insert(all.end(), std::make_move_iterator(part.begin()),
               std::make_move_iterator(part.end()));
  }
  return all;
}

void print_accuracy(const char* name, const PosAccuracy& a) {
  std::printf("%-20s %8zu %9.2f%% %9.2f%%\n", name, a.words, 100.0 * a.upos(), 100.0 * a.xpos());
}

void run(const TrainTaggerOptions& o) {
  std::filesystem::path dir(o.ud_dir);
  if (!std::filesystem::is_directory(dir)) {
    throw InputError("--ud", "expected a directory of UD CoNLL-U files, got \"" + o.ud_dir + "\"");
  }
  std::vector<UdSentence> train = read_all(dir, {"en_ewt-ud-train.conllu", "en_gum-ud-train.conllu"});
  std::vector<UdSentence> dev = read_all(dir, {"en_ewt-ud-dev.conllu", "en_gum-ud-dev.conllu"});
  std::fprintf(stderr, "train-tagger: %zu training sentences, %zu dev sentences, seed %llu\n",
               train.size(), dev.size(), static_cast<unsigned long long>(o.seed));

  PosTrainOptions opts;
  opts.epochs = o.epochs;
  opts.seed = o.seed;
  opts.prune = o.prune;
  PosTrainResult r = train_pos_tagger(train, dev, opts, [](const PosEpoch& e) {
    std::fprintf(stderr, "epoch %2d: dev UPOS %.2f%% XPOS %.2f%% (%zu features, %zu weights)\n",
                 e.epoch, 100.0 * e.dev.upos(), 100.0 * e.dev.xpos(), e.features, e.weights);
  });
  r.tagger.save(o.out);
  std::printf("model: %s (epoch %d of %d, %zu features, %zu weights, %zu tags)\n", o.out.c_str(),
              r.best_epoch, o.epochs, r.tagger.n_features(), r.tagger.n_weights(),
              r.tagger.n_tags());
  std::printf("%-20s %8s %10s %10s\n", "split", "words", "UPOS", "XPOS");
  print_accuracy("EWT+GUM dev", r.epochs[static_cast<size_t>(r.best_epoch - 1)].dev);
  for (const char* name : {"en_ewt-ud-test", "en_gum-ud-test", "en_pud-ud-test"}) {
    std::filesystem::path p = dir / (std::string(name) + ".conllu");
    if (!std::filesystem::exists(p)) continue;
    print_accuracy(name, evaluate_pos(r.tagger, read_conllu(p)));
  }
}

}  // namespace

void add_train_tagger_command(CLI::App& app) {
  auto o = std::make_shared<TrainTaggerOptions>();
  CLI::App* cmd = app.add_subcommand(
      "train-tagger",
      "Train the part-of-speech tagger on UD English EWT + GUM train, choose the epoch on their "
      "dev splits, write the model file and print UPOS/XPOS accuracy on the test splits");
  cmd->add_option("--ud", o->ud_dir,
                  "Directory with en_ewt-ud-{train,dev,test}.conllu, en_gum-ud-{train,dev,test}"
                  ".conllu and (optional) en_pud-ud-test.conllu")
      ->required();
  cmd->add_option("--out", o->out, "Model file to write (models/pos/en_ud.pos is the shipped one)")
      ->required();
  cmd->add_option("--epochs", o->epochs, "Training passes; the best on dev is kept")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->seed, "Seed of the per-pass shuffle of training sentences")
      ->capture_default_str();
  cmd->add_option("--prune", o->prune, "Drop averaged weights with |w| below this")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->callback([o] { run(*o); });
}

}  // namespace lossgap::cli
