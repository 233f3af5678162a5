// cgctl's subcommands register themselves here: each cmd_*.cc in this folder defines one
// static CommandRegistrar that adds its CLI11 subcommands, so areas (policy, topology, ...) add
// commands without touching main.cc.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace cg::cli {

// Options every subcommand sees (parsed before the subcommand runs).
struct GlobalOptions {
  std::string output = "text";  // -o text|json
};

using CommandInstaller = std::function<void(CLI::App& app, GlobalOptions& global)>;

std::vector<CommandInstaller>& command_installers();

struct CommandRegistrar {
  explicit CommandRegistrar(CommandInstaller installer) {
    command_installers().push_back(std::move(installer));
  }
};

}  // namespace cg::cli
