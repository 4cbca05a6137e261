// `labctl completion bash`: a bash completion script generated from the command tree, so it
// always matches the commands and flags labctl has.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cli/command_context.h"

namespace labkube::cli {
namespace {

// Command path ("" for the root, " ide start" for a leaf) -> words that may follow.
void Collect(const CLI::App& app, const std::string& path,
             std::map<std::string, std::vector<std::string>>& words) {
  std::vector<std::string>& here = words[path];
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    here.push_back(sub->get_name());
    Collect(*sub, absl::StrCat(path, " ", sub->get_name()), words);
  }
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& l : opt->get_lnames()) here.push_back("--" + l);
    for (const std::string& s : opt->get_snames()) here.push_back("-" + s);
  }
}

}  // namespace

std::string BashCompletion(const CLI::App& app) {
  std::map<std::string, std::vector<std::string>> words;
  Collect(app, "", words);
  std::string cases;
  for (const auto& [path, list] : words) {
    absl::StrAppend(&cases, "    \"", path, "\") words=\"", absl::StrJoin(list, " "), "\" ;;\n");
  }
  return absl::StrCat(R"(# bash completion for labctl. Load: source <(labctl completion bash)
_labctl() {
  local cur prev path="" words="" i w
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    -o|--output) COMPREPLY=($(compgen -W "table json yaml" -- "$cur")); return ;;
    --kind) COMPREPLY=($(compgen -W "jupyterlab codeserver" -- "$cur")); return ;;
    --volume) COMPREPLY=($(compgen -W "cephfs nfs" -- "$cur")); return ;;
    --ca-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    _labctl_words "$path $w" >/dev/null && path="$path $w"
  done
  words=$(_labctl_words "$path")
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_labctl_words() {
  local words=""
  case "$1" in
)",
                      cases, R"(    *) return 1 ;;
  esac
  echo "$words"
}
complete -F _labctl labctl
)");
}

}  // namespace labkube::cli
