import { expect } from 'chai';

describe('smoke', () => {
  it('runs TypeScript tests natively', () => {
    const n: number = 2;
    expect(n + 1).to.equal(3);
  });
});
