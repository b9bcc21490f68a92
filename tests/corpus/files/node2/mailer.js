const nodemailer = require("nodemailer");

const transporter = nodemailer.createTransport({
  host: "smtp.mesh.example",
  port: 465,
  secure: true,
  auth: {
    user: "alerts@mesh.example",
    pass: "ENpoFSq1mSDzR70V",
  },
});

module.exports = (to, subject, text) => transporter.sendMail({ from: "alerts@mesh.example", to, subject, text });
