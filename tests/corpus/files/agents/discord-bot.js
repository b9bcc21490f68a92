const { Client, GatewayIntentBits } = require("discord.js");

const client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages] });

client.on("ready", () => console.log(`logged in as ${client.user.tag}`));
client.on("messageCreate", async (msg) => {
  if (msg.content === "!ping") await msg.reply("pong");
});

// TODO move to env before merging
client.login("MT7n00SPKG-JhV4qddewM1XxQM.GfX_K0.AX3GJ2bOdhi-1_GdZuqPJ3dQ-mHBxolaCOUBVS");
