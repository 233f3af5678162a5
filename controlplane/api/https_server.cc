#include "controlplane/api/https_server.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>

namespace cg::api {

bool ensure_certificate(const std::string& cert_path, const std::string& key_path,
                        std::string* error) {
  namespace fs = std::filesystem;
  if (fs::exists(cert_path) && fs::exists(key_path)) return true;
  std::error_code ec;
  for (const auto& p : {cert_path, key_path})
    if (auto dir = fs::path(p).parent_path(); !dir.empty()) fs::create_directories(dir, ec);
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  bool ok = key && x;
  char host[256] = "campusguard";
  gethostname(host, sizeof host - 1);
  if (ok) {
    ASN1_INTEGER_set(X509_get_serialNumber(x), static_cast<long>(time(nullptr)));
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("campusguard"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(host), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    std::string san = std::string("DNS:") + host + ",DNS:localhost,IP:127.0.0.1,IP:::1";
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    ok = ext && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
  }
  if (ok) {
    mode_t old = umask(077);
    FILE* kf = std::fopen(key_path.c_str(), "w");
    umask(old);
    ok = kf && PEM_write_PrivateKey(kf, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    if (kf) std::fclose(kf);
    FILE* cf = ok ? std::fopen(cert_path.c_str(), "w") : nullptr;
    ok = cf && PEM_write_X509(cf, x) == 1;
    if (cf) std::fclose(cf);
  }
  X509_free(x);
  EVP_PKEY_free(key);
  if (!ok) *error = "cannot create a self-signed certificate at " + cert_path;
  return ok;
}

struct HttpsServer::Impl {
  Impl(const std::string& cert, const std::string& key) : server(cert.c_str(), key.c_str()) {}
  httplib::SSLServer server;
};

HttpsServer::HttpsServer(Api& api, const std::string& cert_path, const std::string& key_path,
                         int threads)
    : impl_(std::make_unique<Impl>(cert_path, key_path)) {
  auto& s = impl_->server;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_payload_max_length(Api::kMaxBody + 1);
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
  auto handler = [&api](const httplib::Request& in, httplib::Response& out) {
    HttpRequest req;
    req.method = in.method;
    req.path = in.path;
    req.body = in.body;
    req.peer = in.remote_addr;
    for (const auto& [k, v] : in.params) req.query[k] = v;
    for (const auto& [k, v] : in.headers) {
      std::string name = k;
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      req.headers[name] = v;
    }
    HttpResponse r = api.handle(req);
    out.status = r.status;
    for (const auto& [k, v] : r.headers) out.set_header(k, v);
    out.set_header("Cache-Control", "no-store");
    out.set_header("X-Content-Type-Options", "nosniff");
    out.set_header("Strict-Transport-Security", "max-age=31536000");
    out.set_content(r.body, r.content_type);
  };
  s.Get(".*", handler);
  s.Post(".*", handler);
  s.Put(".*", handler);
  s.Delete(".*", handler);
  s.Patch(".*", handler);
}

HttpsServer::~HttpsServer() = default;
bool HttpsServer::valid() const { return impl_->server.is_valid(); }

int HttpsServer::bind(const std::string& host, int port) {
  if (port == 0) return impl_->server.bind_to_any_port(host.c_str());
  return impl_->server.bind_to_port(host.c_str(), port) ? port : -1;
}

void HttpsServer::run() { impl_->server.listen_after_bind(); }
void HttpsServer::stop() { impl_->server.stop(); }

}  // namespace cg::api
