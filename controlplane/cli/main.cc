// cgctl: the campusguard command line. Subcommands live in cmd_*.cc (see command_registry.h).
#include <cstdio>

#include "controlplane/cli/command_registry.h"

namespace cg::cli {
std::vector<CommandInstaller>& command_installers() {
  static std::vector<CommandInstaller> installers;
  return installers;
}
}  // namespace cg::cli

int main(int argc, char** argv) {
  CLI::App app{"cgctl - campusguard command line"};
  app.require_subcommand(1);
  cg::cli::GlobalOptions global;
  app.add_option("-o,--output", global.output, "output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  for (auto& install : cg::cli::command_installers()) install(app, global);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a subcommand's own result (e.g. 1: invalid policy)
  } catch (const CLI::ParseError& e) {
    // --help exits 0; every usage error exits 2 (CLI11's own codes would leak out otherwise).
    return app.exit(e) == 0 ? 0 : 2;
  }
  return 0;
}
