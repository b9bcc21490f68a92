'use strict';
const https = require('https');

const SLACK_WEBHOOK = 'https://hooks.slack.com/services/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';
const DISCORD_WEBHOOK = process.env.DISCORD_WEBHOOK_URL;

function post(url, payload) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(JSON.stringify(payload));
  });
}

module.exports = async function notify(text) {
  await post(SLACK_WEBHOOK, { text });
  if (DISCORD_WEBHOOK) await post(DISCORD_WEBHOOK, { content: text });
};
