/** Entry point of the dashboard bundle. */
import { render } from 'preact';
import { App } from './app.tsx';
import { keepFocusOnBusyButtons } from './busy-button-focus.ts';

const root = document.getElementById('app');
if (root) {
  keepFocusOnBusyButtons(root);
  render(<App />, root);
}
