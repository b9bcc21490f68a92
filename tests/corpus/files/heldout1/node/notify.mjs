import { WebClient } from '@slack/web-api';

const slack = new WebClient('xoxp-786894944074-484357336080-6033547552655-21138f3f2dc04169efe543ebc48807e6');
const socketToken = 'xapp-1-A6LNCFZTN9W-6141647991143-d15a5f6a1ab16b3adfbbdc518894f6b7604142a35c8e38426b95bccd1d758df1';
const DISCORD_TOKEN = 'McTcovVZCFWfh4qbrPvYHlxrNk.PTNnLn.5emMhR1WQvms68ittAVBscFxAH3S0PVNLXJfa8';

export async function notify(channel, text) {
  const token = process.env.SLACK_BOT_TOKEN ?? '';
  if (!token) throw new Error('SLACK_BOT_TOKEN is not set');
  await slack.chat.postMessage({ channel, text });
}

export const messages = {
  tokenExpired: 'Your token has expired, please log in again',
  passwordWrong: 'Wrong password',
};
