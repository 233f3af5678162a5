# Alerting (controlplane/alerting): e-mail over SMTP with STARTTLS through libcurl. The other
# libraries it uses (cpp-httplib + OpenSSL, SQLite, net-snmp) are declared by their areas.
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
add_library(cg::curl ALIAS PkgConfig::CURL)
