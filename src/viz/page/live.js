// Following a session live: the server (`moai-session inspect`) sends each new
// step as a server-sent event. When the server goes away the page keeps all
// it has and says so; the browser's EventSource reconnects by itself, asking
// only for what came after the last step it holds.

/** Follow the server's stream of steps; `onSteps` gets each batch, `onStatus` what to say about the link. */
export function followLive({ url, after, onSteps, onStatus }) {
  let source;
  let lostAt;
  const connect = () => {
    source = new EventSource(`${url}${url.includes('?') ? '&' : '?'}after=${after()}`);
    source.addEventListener('open', () => {
      onStatus(lostAt === undefined ? 'live: following the log' : `live again (the server was away from ${lostAt})`, true);
      lostAt = undefined;
    });
    source.addEventListener('steps', (message) => onSteps(JSON.parse(message.data)));
    source.addEventListener('error', () => {
      if (lostAt === undefined) lostAt = new Date().toISOString().slice(11, 19);
      onStatus(`the server went away at ${lostAt} UTC: showing what was received (up to v${after()}); retrying`, false);
      // Reconnect from the last step held, not from where the first connection started.
      source.close();
      setTimeout(connect, 2000);
    });
  };
  connect();
}
