'use strict';
const https = require('https');
const sgMail = require('@sendgrid/mail');

sgMail.setApiKey('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');

const SLACK_HOOK = process.env.SLACK_HOOK || 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
const TEAMS_HOOK = 'https://meshworks.webhook.office.com/webhookb2/27e03062-9f2f-401c-bd52-c33f6b4109ab@3c78a183-0308-4c21-8ed7-e71b3932028a/IncomingWebhook/809806d574313dcc8e96d32e163ee600/30d071b8-e8c5-4d3d-abfe-a1b20f1173f2/V2Ac0Mbs9nBaJhuS1o-xNkom_w7SNjYtzj4Ygf9AudUJ8';
const TWILIO = 'https://ACafd05b3ae8b3d2e22e844d6d64ea5f23:b251b3f480ae99fa8392e20c21cc8205@api.twilio.com/2010-04-01/Accounts';
const GCHAT = 'https://chat.googleapis.com/v1/spaces/AAAA1T8tdc7/messages?key=AIzaF_wXCU6Gvy81WhIfMijj_VnNTfZ5m_R4wlS&token=xi_Xxv2Azveg0z9Zqy_NrLCGPxdraaUsFhE0GshrHY1%3D';

function post(url, payload) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(JSON.stringify(payload));
  });
}

module.exports = async function notify(text) {
  await post(SLACK_HOOK, { text });
  await post(TEAMS_HOOK, { text });
  await post(GCHAT, { text });
  await sgMail.send({ to: 'oncall@mesh.example', from: 'bot@mesh.example', subject: 'alert', text });
};
