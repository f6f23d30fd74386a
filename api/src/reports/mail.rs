//! E-mail delivery: each job's message is written to the outbox folder
//! first (`<outbox>/<job id>.eml`), then sent over SMTP (STARTTLS, TLS or
//! plain; with a login if configured) and moved to `<outbox>/sent/`.
//! Without an SMTP server the outbox is the delivery: another program
//! picks the files up. The job store's ledger records each delivery, and
//! a job whose delivery is recorded never sends again, so a retry after a
//! crash cannot mail twice (only a crash in the instant between the
//! server's acceptance and the record could; the Message-ID is the job's
//! id, so a mail system can still drop such a duplicate).

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::job::ReportJob;
use super::runner::{Rendered, write_atomically};
use super::settings::{MailSection, SmtpSecurity};
use super::store::{Delivery, JobStore};

/// Why a message could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A recipient or the sender does not parse.
    #[error("address {address:?}: {reason}")]
    Address {
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
    /// The message could not be built.
    #[error("building the message: {0}")]
    Build(String),
    /// The SMTP exchange failed.
    #[error("SMTP {host}:{port}: {reason}")]
    Smtp {
        /// The server.
        host: String,
        /// Its port.
        port: u16,
        /// Why.
        reason: String,
    },
    /// The outbox could not be written.
    #[error("outbox: {0}")]
    Outbox(String),
    /// The ledger could not be read or written.
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
}

/// Sends reports.
#[derive(Clone, Debug)]
pub struct Mailer {
    settings: MailSection,
    outbox: PathBuf,
}

impl Mailer {
    /// A mailer with `settings`; the outbox defaults to `<data>/outbox`.
    pub fn new(settings: MailSection, data: &Path) -> Self {
        let outbox = settings
            .outbox
            .clone()
            .unwrap_or_else(|| data.join("outbox"));
        Mailer { settings, outbox }
    }

    /// Delivers `job`'s outputs to its recipients once: returns `none`
    /// (nobody to send to), `already` (recorded earlier), `smtp` or
    /// `outbox`.
    pub async fn deliver(
        &self,
        store: &JobStore,
        job_id: &str,
        job: &ReportJob,
        rendered: &Rendered,
    ) -> Result<String, MailError> {
        if job.recipients.is_empty() {
            return Ok("none".into());
        }
        if store.delivery(job_id).await?.is_some() {
            return Ok("already".into());
        }
        let message_id = format!("<{job_id}@queuelake>");
        let message = self.message(&message_id, job, rendered)?;
        let eml = self.outbox.join(format!("{job_id}.eml"));
        std::fs::create_dir_all(&self.outbox).map_err(|e| MailError::Outbox(e.to_string()))?;
        write_atomically(&eml, &message.formatted())
            .map_err(|e| MailError::Outbox(e.to_string()))?;
        let via = match &self.settings.smtp_host {
            Some(host) => {
                self.send(host, message).await?;
                let sent = self.outbox.join("sent");
                std::fs::create_dir_all(&sent).map_err(|e| MailError::Outbox(e.to_string()))?;
                std::fs::rename(&eml, sent.join(format!("{job_id}.eml")))
                    .map_err(|e| MailError::Outbox(e.to_string()))?;
                "smtp"
            }
            None => "outbox",
        };
        store
            .record_delivery(
                job_id,
                &job.recipients,
                &Delivery {
                    via: via.into(),
                    message_id,
                },
            )
            .await?;
        Ok(via.into())
    }

    fn message(
        &self,
        message_id: &str,
        job: &ReportJob,
        rendered: &Rendered,
    ) -> Result<Message, MailError> {
        let mailbox = |address: &str| {
            address.parse::<Mailbox>().map_err(|e| MailError::Address {
                address: address.to_owned(),
                reason: e.to_string(),
            })
        };
        let mut builder = Message::builder()
            .from(mailbox(&self.settings.from)?)
            .subject(format!("{} — {}", rendered.title, job.window.label))
            .message_id(Some(message_id.to_owned()));
        for recipient in &job.recipients {
            builder = builder.to(mailbox(recipient)?);
        }
        let mut body = format!("{}\n{}\n\n", rendered.title, rendered.subtitle);
        for (name, value) in &rendered.headlines {
            body.push_str(&format!("{name}: {value}\n"));
        }
        if !rendered.headlines.is_empty() {
            body.push('\n');
        }
        body.push_str("Attached:\n");
        for file in &rendered.files {
            body.push_str(&format!("- {}\n", file.name));
        }
        let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(body));
        for file in &rendered.files {
            let content_type = ContentType::parse(file.format.mime())
                .map_err(|e| MailError::Build(e.to_string()))?;
            parts = parts.singlepart(
                Attachment::new(file.name.clone()).body(file.bytes.clone(), content_type),
            );
        }
        builder
            .multipart(parts)
            .map_err(|e| MailError::Build(e.to_string()))
    }

    async fn send(&self, host: &str, message: Message) -> Result<(), MailError> {
        let port = self.settings.port();
        let fail = |reason: String| MailError::Smtp {
            host: host.to_owned(),
            port,
            reason,
        };
        let tls = match self.settings.security {
            SmtpSecurity::None => Tls::None,
            security => {
                let mut params = TlsParameters::builder(host.to_owned());
                if let Some(ca) = &self.settings.ca_file {
                    let pem = std::fs::read(ca)
                        .map_err(|e| fail(format!("ca_file {}: {e}", ca.display())))?;
                    let cert = Certificate::from_pem(&pem)
                        .map_err(|e| fail(format!("ca_file {}: {e}", ca.display())))?;
                    params = params.add_root_certificate(cert);
                }
                let params = params.build_rustls().map_err(|e| fail(e.to_string()))?;
                if security == SmtpSecurity::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(self.settings.timeout_seconds)));
        if let (Some(user), Some(password)) = (&self.settings.username, &self.settings.password) {
            transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
        }
        transport
            .build()
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| fail(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    use queuelake_reports::definition::Format;

    use super::*;
    use crate::reports::runner::OutputFile;

    /// Starts the end-to-end tests' SMTP sink with `args`; returns it and its port.
    fn sink(mail: &std::path::Path, args: &[&str]) -> (std::process::Child, u16) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/support/smtp_sink.py");
        let mut sink = Command::new("python3")
            .arg(script)
            .arg(mail)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd");
        let mut line = String::new();
        std::io::BufReader::new(sink.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .trim_start_matches("ready ")
            .parse()
            .expect("sink port");
        (sink, port)
    }

    fn job() -> ReportJob {
        crate::reports::job::example_job()
    }

    fn rendered() -> Rendered {
        Rendered {
            title: "Daily queue summary".into(),
            subtitle: "2024-03-05".into(),
            files: vec![OutputFile {
                name: "totals.csv".into(),
                format: Format::Csv,
                bytes: b"offered\r\n288\r\n".to_vec(),
            }],
            rows: Vec::new(),
            headlines: vec![("Offered".into(), "288".into())],
            query_seconds: 0.0,
            render_seconds: 0.0,
        }
    }

    fn received(mail: &std::path::Path, want: usize) -> usize {
        let count = || {
            std::fs::read_dir(mail)
                .map(|d| {
                    d.flatten()
                        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                        .count()
                })
                .unwrap_or(0)
        };
        let start = std::time::Instant::now();
        while count() < want && start.elapsed().as_secs() < 10 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        count()
    }

    /// STARTTLS, and TLS from the first byte, with a private CA
    /// (`ca_file`) and a login: the server sees an encrypted, authenticated
    /// session.
    #[tokio::test]
    async fn starttls_and_tls_with_a_private_ca_and_a_login_deliver() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
        let (ca, ca_key, cert, key) = (
            path("ca.pem"),
            path("ca.key"),
            path("cert.pem"),
            path("key.pem"),
        );
        std::fs::write(
            path("leaf.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        // A private CA, and a server certificate it signs.
        let steps: [Vec<&str>; 3] = [
            vec![
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=queuelake test CA",
                "-keyout",
                &ca_key,
                "-out",
                &ca,
            ],
            vec![
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                &key,
                "-out",
                "leaf.csr",
            ],
            vec![
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                &ca,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "leaf.ext",
                "-out",
                &cert,
            ],
        ];
        for args in steps {
            let made = Command::new("openssl")
                .args(&args)
                .current_dir(dir.path())
                .stderr(Stdio::null())
                .status()
                .expect("openssl");
            assert!(made.success(), "openssl {args:?}");
        }
        let cert = std::path::PathBuf::from(cert);
        let key = std::path::PathBuf::from(key);
        let mail = dir.path().join("mail");
        // The sink wants the login and serves the certificate.
        let secured = [
            "--user",
            "reports",
            "--password",
            "s3cret",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ];
        let (mut server, port) = sink(&mail, &secured);
        let store = JobStore::open(None, dir.path(), "test").await.unwrap();
        let settings = MailSection {
            smtp_host: Some("localhost".into()),
            smtp_port: Some(port),
            security: SmtpSecurity::Starttls,
            username: Some("reports".into()),
            password: Some("s3cret".into()),
            ca_file: Some(ca.clone().into()),
            ..MailSection::default()
        };
        let sent = Mailer::new(settings.clone(), dir.path())
            .deliver(&store, "01HQZX00000000000000STARTT", &job(), &rendered())
            .await
            .unwrap();
        assert_eq!(sent, "smtp");
        assert_eq!(received(&mail, 1), 1);
        let envelope = std::fs::read_to_string(mail.join("1/envelope.txt")).unwrap();
        assert!(
            envelope.contains("auth True") && envelope.contains("tls True"),
            "{envelope}"
        );
        // Without the CA the certificate is not trusted, and nothing is sent.
        let untrusted = MailSection {
            ca_file: None,
            ..settings
        };
        let refused = Mailer::new(untrusted.clone(), dir.path())
            .deliver(&store, "01HQZX00000000000000UNTRST", &job(), &rendered())
            .await
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with(&format!("SMTP localhost:{port}:")),
            "{refused}"
        );
        assert_eq!(received(&mail, 1), 1);
        let _ = server.kill();
        let _ = server.wait();

        // TLS from the first byte (port 465 style).
        let wrapped = dir.path().join("wrapped");
        let (mut server, port) = sink(&wrapped, &[&secured[..], &["--implicit-tls"]].concat());
        let implicit = MailSection {
            smtp_port: Some(port),
            security: SmtpSecurity::Tls,
            ca_file: Some(ca.clone().into()),
            ..untrusted
        };
        let sent = Mailer::new(implicit, dir.path())
            .deliver(&store, "01HQZX00000000000000WRAPPD", &job(), &rendered())
            .await
            .unwrap();
        assert_eq!(sent, "smtp");
        assert_eq!(received(&wrapped, 1), 1);
        let envelope = std::fs::read_to_string(wrapped.join("1/envelope.txt")).unwrap();
        assert!(
            envelope.contains("auth True") && envelope.contains("tls True"),
            "{envelope}"
        );
        let _ = server.kill();
        let _ = server.wait();
    }

    /// A job delivered once is not sent again when it runs again (a
    /// retry after a crash): the ledger says it went, the server gets one
    /// message. Uses the real SMTP sink of the end-to-end tests.
    #[tokio::test]
    async fn a_delivered_job_is_never_mailed_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mail = dir.path().join("mail");
        let (mut server, port) = sink(&mail, &[]);
        let store = JobStore::open(None, dir.path(), "test").await.unwrap();
        let mailer = Mailer::new(
            MailSection {
                smtp_host: Some("127.0.0.1".into()),
                smtp_port: Some(port),
                security: SmtpSecurity::None,
                ..MailSection::default()
            },
            dir.path(),
        );
        let id = "01HQZX0000000000000000TEST";
        let first = mailer
            .deliver(&store, id, &job(), &rendered())
            .await
            .unwrap();
        let second = mailer
            .deliver(&store, id, &job(), &rendered())
            .await
            .unwrap();
        assert_eq!((first.as_str(), second.as_str()), ("smtp", "already"));
        assert_eq!(received(&mail, 1), 1);
        let attachment = std::fs::read(mail.join("1").join("totals.csv")).unwrap();
        assert_eq!(attachment, b"offered\r\n288\r\n");
        assert!(
            dir.path()
                .join("outbox/sent")
                .join(format!("{id}.eml"))
                .is_file()
        );
        let _ = server.kill();
        let _ = server.wait();
    }
}
