//! Transport security: the TLS options of the drivers pass through the runtime's URL, and
//! certificate verification is really on. Each test starts a server of its own, with TLS,
//! in a temporary data directory and with a CA generated for it (never the machine's shared
//! server): the right CA connects and migrates over TLS; a wrong CA is refused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use migrations_runtime::{AnyConnection, Connection as _, Migrator};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

/// A CA and a server certificate for `127.0.0.1` and `localhost`, written as PEM files;
/// plus a second, unrelated CA.
struct Certificates {
    ca: PathBuf,
    other_ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().expect("CA key");
    (params.self_signed(&key).expect("self-signed CA"), key)
}

fn certificates(dir: &Path) -> Certificates {
    let (ca_cert, ca_key) = ca("chakra test CA");
    let (other, _) = ca("some other CA");
    let params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).expect("params");
    let key = KeyPair::generate().expect("server key");
    let cert = params.signed_by(&key, &ca_cert, &ca_key).expect("server certificate");
    let files = Certificates {
        ca: dir.join("ca.pem"),
        other_ca: dir.join("other-ca.pem"),
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    std::fs::write(&files.ca, ca_cert.pem()).expect("write");
    std::fs::write(&files.other_ca, other.pem()).expect("write");
    std::fs::write(&files.cert, cert.pem()).expect("write");
    std::fs::write(&files.key, key.serialize_pem()).expect("write");
    files
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program args...`, as `user` when this process is root (the servers refuse to run as
/// root).
fn as_user(user: &str, program: &Path, args: &[&str]) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", user, "--"]).arg(program).args(args);
        c
    } else {
        let mut c = Command::new(program);
        c.args(args);
        c
    }
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh, private directory the server's user can use.
fn private_dir(prefix: &str, owner: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(chakra_tests::db::unique_name(prefix));
    std::fs::create_dir_all(&dir).expect("temp dir");
    if is_root() {
        run(
            {
                let mut c = Command::new("chown");
                c.args(["-R", &format!("{owner}:{owner}")]).arg(&dir);
                c
            },
            "chown",
        );
    }
    dir
}

/// Where this machine's PostgreSQL programs are, if it has them.
fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

fn missing(what: &str) {
    let msg = format!("{what} is not installed here, so the TLS test cannot start a server of its own");
    if std::env::var_os("CI").is_some() {
        panic!("{msg} (CI is set, so that is a failure)");
    }
    eprintln!("\n=== SKIPPED: {msg} ===\n");
}

/// A PostgreSQL server of the test's own, with TLS on, stopped when dropped.
struct TlsPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    certs: Certificates,
}

impl TlsPostgres {
    fn start() -> Option<TlsPostgres> {
        let Some(bin) = postgres_bin() else {
            missing("PostgreSQL (initdb)");
            return None;
        };
        let dir = private_dir("tls_pg", "postgres");
        let certs = certificates(&dir);
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres"]).arg(&dir);
                    c
                },
                "chown",
            );
        }
        std::fs::set_permissions(&certs.key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
        let data = dir.join("data");
        let data_s = data.display().to_string();
        run(
            as_user("postgres", &bin.join("initdb"), &["-D", &data_s, "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            "initdb",
        );
        let port = free_port();
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            dir.display(),
            certs.cert.display(),
            certs.key.display()
        );
        let log = dir.join("server.log").display().to_string();
        run(
            as_user("postgres", &bin.join("pg_ctl"), &["-D", &data_s, "-l", &log, "-o", &options, "-w", "start"]),
            "pg_ctl start",
        );
        Some(TlsPostgres { dir, bin, port, certs })
    }

    fn url(&self, query: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres?{query}", self.port)
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let _ = as_user("postgres", &self.bin.join("pg_ctl"), &["-D", &data, "-m", "immediate", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn postgres_tls_verify_full_connects_with_the_right_ca_and_refuses_a_wrong_one() {
    let Some(server) = TlsPostgres::start() else { return };
    let good = server.url(&format!("sslmode=verify-full&sslrootcert={}", server.certs.ca.display()));
    let mut conn = AnyConnection::connect(&good).await.unwrap_or_else(|e| panic!("the right CA: {e}"));
    let ssl = conn
        .query_text("SELECT CAST(ssl AS text) FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .await
        .expect("pg_stat_ssl");
    assert_eq!(ssl, ["true"], "the connection is not encrypted");
    let steps = Migrator::new(&chakra_tests::runtime_fixture::BLOG).apply(&mut conn).await.expect("migrate over TLS");
    assert_eq!(steps.len(), 3);
    drop(conn);

    let wrong = server.url(&format!("sslmode=verify-full&sslrootcert={}", server.certs.other_ca.display()));
    let started = Instant::now();
    let err = AnyConnection::connect(&wrong).await.expect_err("a certificate from an unknown CA must be refused");
    println!("with a wrong CA ({:?}): {err}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(10));
    let text = err.to_string().to_lowercase();
    assert!(text.contains("certificate") || text.contains("tls"), "{text}");
}

/// A MariaDB server of the test's own, with TLS on, stopped when dropped.
struct TlsMariaDb {
    dir: PathBuf,
    server: std::process::Child,
    port: u16,
    certs: Certificates,
}

impl TlsMariaDb {
    async fn start() -> Option<TlsMariaDb> {
        let (install, daemon) = (Path::new("/usr/bin/mariadb-install-db"), Path::new("/usr/sbin/mariadbd"));
        if !install.exists() || !daemon.exists() {
            missing("MariaDB (mariadb-install-db, mariadbd)");
            return None;
        }
        let dir = private_dir("tls_my", "mysql");
        let certs = certificates(&dir);
        let data = dir.join("data").display().to_string();
        let user: &[&str] = if is_root() { &["--user=mysql"] } else { &[] };
        let mut install_cmd = Command::new(install);
        install_cmd
            .args([
                "--no-defaults",
                &format!("--datadir={data}"),
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .args(user);
        run(install_cmd, "mariadb-install-db");
        if is_root() {
            let mut c = Command::new("chown");
            c.args(["-R", "mysql:mysql"]).arg(&dir);
            run(c, "chown");
        }
        let port = free_port();
        let server = Command::new(daemon)
            .arg("--no-defaults")
            .arg(format!("--datadir={data}"))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
            .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
            .arg(format!("--ssl-ca={}", certs.ca.display()))
            .arg(format!("--ssl-cert={}", certs.cert.display()))
            .arg(format!("--ssl-key={}", certs.key.display()))
            .arg(format!("--log-error={}", dir.join("error.log").display()))
            .args(user)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start mariadbd");
        let started = TlsMariaDb { dir, server, port, certs };
        // Up when it answers (bounded).
        let deadline = Instant::now() + Duration::from_secs(60);
        while AnyConnection::connect(&started.url("ssl-mode=DISABLED")).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "the test's MariaDB did not start: {:?}",
                std::fs::read_to_string(started.dir.join("error.log"))
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Some(started)
    }

    fn url(&self, query: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/mysql?{query}", self.port)
    }
}

impl Drop for TlsMariaDb {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn mariadb_tls_verify_identity_connects_with_the_right_ca_and_refuses_a_wrong_one() {
    let Some(server) = TlsMariaDb::start().await else { return };
    let good = server.url(&format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={}", server.certs.ca.display()));
    let mut conn = AnyConnection::connect(&good).await.unwrap_or_else(|e| panic!("the right CA: {e}"));
    let cipher = conn.query_text("SELECT CAST(VARIABLE_VALUE AS CHAR) FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'").await.expect("Ssl_cipher");
    assert!(cipher.first().is_some_and(|c| !c.is_empty()), "the connection is not encrypted: {cipher:?}");
    conn.execute("CREATE DATABASE chakra_tls").await.expect("create database");
    drop(conn);
    let db = good.replace("/mysql?", "/chakra_tls?");
    let steps = Migrator::new(&chakra_tests::runtime_fixture::BLOG).apply_url(&db).await.expect("migrate over TLS");
    assert_eq!(steps.len(), 3);

    let wrong = server.url(&format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={}", server.certs.other_ca.display()));
    let err = AnyConnection::connect(&wrong).await.expect_err("a certificate from an unknown CA must be refused");
    println!("with a wrong CA: {err}");
    let text = err.to_string().to_lowercase();
    assert!(text.contains("certificate") || text.contains("tls"), "{text}");
}
