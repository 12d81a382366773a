//! A TCP relay the browser reaches gavel through, so that a test can drop its connections.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A TCP relay between the browser and gavel that can drop every connection at once, as a
/// flaky network or a restarted load balancer would, and keeps what the browser sent.
pub struct Relay {
    /// The relay's base URL, which the browser uses in place of the server's.
    pub url: String,
    /// The relayed connections; aborting them closes both sides.
    conns: Arc<Mutex<JoinSet<()>>>,
    /// Every byte the browser sent, in arrival order (requests are plain HTTP/1.1).
    sent: Arc<Mutex<Vec<u8>>>,
    /// The accept loop.
    acceptor: tokio::task::JoinHandle<()>,
}

impl Relay {
    pub async fn start(to: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let conns = Arc::new(Mutex::new(JoinSet::new()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (c, s) = (conns.clone(), sent.clone());
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(to).await else {
                    continue;
                };
                let sent = s.clone();
                c.lock().unwrap().spawn(async move {
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = async {
                        let mut buf = vec![0; 16 * 1024];
                        while let Ok(n @ 1..) = cr.read(&mut buf).await {
                            sent.lock().unwrap().extend_from_slice(&buf[..n]);
                            if sw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = sw.shutdown().await;
                    };
                    let down = async {
                        let _ = tokio::io::copy(&mut sr, &mut cw).await;
                        let _ = cw.shutdown().await;
                    };
                    tokio::join!(up, down);
                });
            }
        });
        Relay {
            url,
            conns,
            sent,
            acceptor,
        }
    }

    /// Drops every open connection; new ones are relayed as before.
    pub fn cut(&self) {
        self.conns.lock().unwrap().abort_all();
    }

    /// What the browser has sent so far, as text.
    pub fn sent(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.cut();
    }
}
