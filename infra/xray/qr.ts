import QRCode from 'qrcode';

/** PNG QR code of a share link; medium error correction keeps long Reality links scannable. */
export function qrPng(text: string): Promise<Buffer> {
  return QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: 512 });
}
